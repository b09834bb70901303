package wire

// Response codes (TPM 2.0 Part 2, section 6.6.3). The names and
// descriptions are those of github.com/google/go-tpm's tpm2/errors.go
// (Apache License 2.0), so that messages read as they did when this module
// used go-tpm; rc_test.go holds every code's message equal to go-tpm's.

const (
	RCSuccess RC = 0x00000000
	// FMT0 error codes
	RCInitialize      RC = rcVer1 + 0x000
	RCFailure         RC = rcVer1 + 0x001
	RCSequence        RC = rcVer1 + 0x003
	RCPrivate         RC = rcVer1 + 0x00B
	RCHMAC            RC = rcVer1 + 0x019
	RCDisabled        RC = rcVer1 + 0x020
	RCExclusive       RC = rcVer1 + 0x021
	RCAuthType        RC = rcVer1 + 0x024
	RCAuthMissing     RC = rcVer1 + 0x025
	RCPolicy          RC = rcVer1 + 0x026
	RCPCR             RC = rcVer1 + 0x027
	RCPCRChanged      RC = rcVer1 + 0x028
	RCUpgrade         RC = rcVer1 + 0x02D
	RCTooManyContexts RC = rcVer1 + 0x02E
	RCAuthUnavailable RC = rcVer1 + 0x02F
	RCReboot          RC = rcVer1 + 0x030
	RCUnbalanced      RC = rcVer1 + 0x031
	RCCommandSize     RC = rcVer1 + 0x042
	RCCommandCode     RC = rcVer1 + 0x043
	RCAuthSize        RC = rcVer1 + 0x044
	RCAuthContext     RC = rcVer1 + 0x045
	RCNVRange         RC = rcVer1 + 0x046
	RCNVSize          RC = rcVer1 + 0x047
	RCNVLocked        RC = rcVer1 + 0x048
	RCNVAuthorization RC = rcVer1 + 0x049
	RCNVUninitialized RC = rcVer1 + 0x04A
	RCNVSpace         RC = rcVer1 + 0x04B
	RCNVDefined       RC = rcVer1 + 0x04C
	RCBadContext      RC = rcVer1 + 0x050
	RCCPHash          RC = rcVer1 + 0x051
	RCParent          RC = rcVer1 + 0x052
	RCNeedsTest       RC = rcVer1 + 0x053
	RCNoResult        RC = rcVer1 + 0x054
	RCSensitive       RC = rcVer1 + 0x055
	// FMT1 error codes
	RCAsymmetric   RC = rcFmt1 + 0x001
	RCAttributes   RC = rcFmt1 + 0x002
	RCHash         RC = rcFmt1 + 0x003
	RCValue        RC = rcFmt1 + 0x004
	RCHierarchy    RC = rcFmt1 + 0x005
	RCKeySize      RC = rcFmt1 + 0x007
	RCMGF          RC = rcFmt1 + 0x008
	RCMode         RC = rcFmt1 + 0x009
	RCType         RC = rcFmt1 + 0x00A
	RCHandle       RC = rcFmt1 + 0x00B
	RCKDF          RC = rcFmt1 + 0x00C
	RCRange        RC = rcFmt1 + 0x00D
	RCAuthFail     RC = rcFmt1 + 0x00E
	RCNonce        RC = rcFmt1 + 0x00F
	RCPP           RC = rcFmt1 + 0x010
	RCScheme       RC = rcFmt1 + 0x012
	RCSize         RC = rcFmt1 + 0x015
	RCSymmetric    RC = rcFmt1 + 0x016
	RCTag          RC = rcFmt1 + 0x017
	RCSelector     RC = rcFmt1 + 0x018
	RCInsufficient RC = rcFmt1 + 0x01A
	RCSignature    RC = rcFmt1 + 0x01B
	RCKey          RC = rcFmt1 + 0x01C
	RCPolicyFail   RC = rcFmt1 + 0x01D
	RCIntegrity    RC = rcFmt1 + 0x01F
	RCTicket       RC = rcFmt1 + 0x020
	RCReservedBits RC = rcFmt1 + 0x021
	RCBadAuth      RC = rcFmt1 + 0x022
	RCExpired      RC = rcFmt1 + 0x023
	RCPolicyCC     RC = rcFmt1 + 0x024
	RCBinding      RC = rcFmt1 + 0x025
	RCCurve        RC = rcFmt1 + 0x026
	RCECCPoint     RC = rcFmt1 + 0x027
	// Warnings
	RCContextGap     RC = rcWarn + 0x001
	RCObjectMemory   RC = rcWarn + 0x002
	RCSessionMemory  RC = rcWarn + 0x003
	RCMemory         RC = rcWarn + 0x004
	RCSessionHandles RC = rcWarn + 0x005
	RCObjectHandles  RC = rcWarn + 0x006
	RCLocality       RC = rcWarn + 0x007
	RCYielded        RC = rcWarn + 0x008
	RCCanceled       RC = rcWarn + 0x009
	RCTesting        RC = rcWarn + 0x00A
	RCReferenceH0    RC = rcWarn + 0x010
	RCReferenceH1    RC = rcWarn + 0x011
	RCReferenceH2    RC = rcWarn + 0x012
	RCReferenceH3    RC = rcWarn + 0x013
	RCReferenceH4    RC = rcWarn + 0x014
	RCReferenceH5    RC = rcWarn + 0x015
	RCReferenceH6    RC = rcWarn + 0x016
	RCReferenceS0    RC = rcWarn + 0x018
	RCReferenceS1    RC = rcWarn + 0x019
	RCReferenceS2    RC = rcWarn + 0x01A
	RCReferenceS3    RC = rcWarn + 0x01B
	RCReferenceS4    RC = rcWarn + 0x01C
	RCReferenceS5    RC = rcWarn + 0x01D
	RCReferenceS6    RC = rcWarn + 0x01E
	RCNVRate         RC = rcWarn + 0x020
	RCLockout        RC = rcWarn + 0x021
	RCRetry          RC = rcWarn + 0x022
	RCNVUnavailable  RC = rcWarn + 0x023
)

type rcDesc struct{ name, description string }

var fmt0Descs = map[RC]rcDesc{
	RCInitialize:      {"TPM_RC_INITIALIZE", "TPM not initialized by TPM2_Startup or already initialized"},
	RCFailure:         {"TPM_RC_FAILURE", "commands not being accepted because of a TPM failure"},
	RCSequence:        {"TPM_RC_SEQUENCE", "improper use of a sequence handle"},
	RCPrivate:         {"TPM_RC_PRIVATE", "not currently used"},
	RCHMAC:            {"TPM_RC_HMAC", "not currently used"},
	RCDisabled:        {"TPM_RC_DISABLED", "the command is disabled"},
	RCExclusive:       {"TPM_RC_EXCLUSIVE", "command failed because audit sequence required exclusivity"},
	RCAuthType:        {"TPM_RC_AUTH_TYPE", "authorization handle is not correct for command"},
	RCAuthMissing:     {"TPM_RC_AUTH_MISSING", "command requires an authorization session for handle and it is not present."},
	RCPolicy:          {"TPM_RC_POLICY", "policy failure in math operation or an invalid authPolicy value"},
	RCPCR:             {"TPM_RC_PCR", "PCR check fail"},
	RCPCRChanged:      {"TPM_RC_PCR_CHANGED", "PCR have changed since checked."},
	RCUpgrade:         {"TPM_RC_UPGRADE", "for all commands other than TPM2_FieldUpgradeData(), this code indicates that the TPM is in field upgrade mode; for TPM2_FieldUpgradeData(), this code indicates that the TPM is not in field upgrade mode"},
	RCTooManyContexts: {"TPM_RC_TOO_MANY_CONTEXTS", "context ID counter is at maximum."},
	RCAuthUnavailable: {"TPM_RC_AUTH_UNAVAILABLE", "authValue or authPolicy is not available for selected entity."},
	RCReboot:          {"TPM_RC_REBOOT", "a _TPM_Init and Startup(CLEAR) is required before the TPM can resume operation."},
	RCUnbalanced:      {"TPM_RC_UNBALANCED", "the protection algorithms (hash and symmetric) are not reasonably balanced. The digest size of the hash must be larger than the key size of the symmetric algorithm."},
	RCCommandSize:     {"TPM_RC_COMMAND_SIZE", "command commandSize value is inconsistent with contents of the command buffer; either the size is not the same as the octets loaded by the hardware interface layer or the value is not large enough to hold a command header"},
	RCCommandCode:     {"TPM_RC_COMMAND_CODE", "command code not supported"},
	RCAuthSize:        {"TPM_RC_AUTHSIZE", "the value of authorizationSize is out of range or the number of octets in the Authorization Area is greater than required"},
	RCAuthContext:     {"TPM_RC_AUTH_CONTEXT", "use of an authorization session with a context command or another command that cannot have an authorization session."},
	RCNVRange:         {"TPM_RC_NV_RANGE", "NV offset+size is out of range."},
	RCNVSize:          {"TPM_RC_NV_SIZE", "Requested allocation size is larger than allowed."},
	RCNVLocked:        {"TPM_RC_NV_LOCKED", "NV access locked."},
	RCNVAuthorization: {"TPM_RC_NV_AUTHORIZATION", "NV access authorization fails in command actions (this failure does not affect lockout.action)"},
	RCNVUninitialized: {"TPM_RC_NV_UNINITIALIZED", "an NV Index is used before being initialized or the state saved by TPM2_Shutdown(STATE) could not be restored"},
	RCNVSpace:         {"TPM_RC_NV_SPACE", "insufficient space for NV allocation"},
	RCNVDefined:       {"TPM_RC_NV_DEFINED", "NV Index or persistent object already defined"},
	RCBadContext:      {"TPM_RC_BAD_CONTEXT", "context in TPM2_ContextLoad() is not valid"},
	RCCPHash:          {"TPM_RC_CPHASH", "cpHash value already set or not correct for use"},
	RCParent:          {"TPM_RC_PARENT", "handle for parent is not a valid parent"},
	RCNeedsTest:       {"TPM_RC_NEEDS_TEST", "some function needs testing."},
	RCNoResult:        {"TPM_RC_NO_RESULT", "an internal function cannot process a request due to an unspecified problem. This code is usually related to invalid parameters that are not properly filtered by the input unmarshaling code."},
	RCSensitive:       {"TPM_RC_SENSITIVE", "the sensitive area did not unmarshal correctly after decryption – this code is used in lieu of the other unmarshaling errors so that an attacker cannot determine where the unmarshaling error occurred"},
}

var fmt1Descs = map[RC]rcDesc{
	RCAsymmetric:   {"TPM_RC_ASYMMETRIC RC_FMT1", "asymmetric algorithm not supported or not correct"},
	RCAttributes:   {"TPM_RC_ATTRIBUTES", "inconsistent attributes"},
	RCHash:         {"TPM_RC_HASH", "hash algorithm not supported or not appropriate"},
	RCValue:        {"TPM_RC_VALUE", "value is out of range or is not correct for the context"},
	RCHierarchy:    {"TPM_RC_HIERARCHY", "hierarchy is not enabled or is not correct for the use"},
	RCKeySize:      {"TPM_RC_KEY_SIZE", "key size is not supported"},
	RCMGF:          {"TPM_RC_MGF", "mask generation function not supported"},
	RCMode:         {"TPM_RC_MODE", "mode of operation not supported"},
	RCType:         {"TPM_RC_TYPE", "the type of the value is not appropriate for the use"},
	RCHandle:       {"TPM_RC_HANDLE", "the handle is not correct for the use"},
	RCKDF:          {"TPM_RC_KDF", "unsupported key derivation function or function not appropriate for use"},
	RCRange:        {"TPM_RC_RANGE", "value was out of allowed range."},
	RCAuthFail:     {"TPM_RC_AUTH_FAIL", "the authorization HMAC check failed and DA counter incremented"},
	RCNonce:        {"TPM_RC_NONCE", "invalid nonce size or nonce value mismatch"},
	RCPP:           {"TPM_RC_PP", "authorization requires assertion of PP"},
	RCScheme:       {"TPM_RC_SCHEME", "unsupported or incompatible scheme"},
	RCSize:         {"TPM_RC_SIZE", "structure is the wrong size"},
	RCSymmetric:    {"TPM_RC_SYMMETRIC", "unsupported symmetric algorithm or key size, or not appropriate for instance"},
	RCTag:          {"TPM_RC_TAG", "incorrect structure tag"},
	RCSelector:     {"TPM_RC_SELECTOR", "union selector is incorrect"},
	RCInsufficient: {"TPM_RC_INSUFFICIENT", "the TPM was unable to unmarshal a value because there were not enough octets in the input buffer"},
	RCSignature:    {"TPM_RC_SIGNATURE", "the signature is not valid"},
	RCKey:          {"TPM_RC_KEY", "key fields are not compatible with the selected use"},
	RCPolicyFail:   {"TPM_RC_POLICY_FAIL", "a policy check failed"},
	RCIntegrity:    {"TPM_RC_INTEGRITY", "integrity check failed"},
	RCTicket:       {"TPM_RC_TICKET", "invalid ticket"},
	RCReservedBits: {"TPM_RC_RESERVED_BITS", "reserved bits not set to zero as required"},
	RCBadAuth:      {"TPM_RC_BAD_AUTH", "authorization failure without DA implications"},
	RCExpired:      {"TPM_RC_EXPIRED", "the policy has expired"},
	RCPolicyCC:     {"TPM_RC_POLICY_CC", "the commandCode in the policy is not the commandCode of the command or the command code in a policy command references a command that is not implemented"},
	RCBinding:      {"TPM_RC_BINDING", "public and sensitive portions of an object are not cryptographically bound"},
	RCCurve:        {"TPM_RC_CURVE", "curve not supported"},
	RCECCPoint:     {"TPM_RC_ECC_POINT", "point is not on the required curve."},
}

var warnDescs = map[RC]rcDesc{
	RCContextGap:     {"TPM_RC_CONTEXT_GAP", "gap for context ID is too large"},
	RCObjectMemory:   {"TPM_RC_OBJECT_MEMORY", "out of memory for object contexts"},
	RCSessionMemory:  {"TPM_RC_SESSION_MEMORY", "out of memory for session contexts"},
	RCMemory:         {"TPM_RC_MEMORY", "out of shared object/session memory or need space for internal operations"},
	RCSessionHandles: {"TPM_RC_SESSION_HANDLES", "out of session handles – a session must be flushed before a new session may be created"},
	RCObjectHandles:  {"TPM_RC_OBJECT_HANDLES", "out of object handles – the handle space for objects is depleted and a reboot is required"},
	RCLocality:       {"TPM_RC_LOCALITY", "bad locality"},
	RCYielded:        {"TPM_RC_YIELDED", "the TPM has suspended operation on the command; forward progress was made and the command may be retried"},
	RCCanceled:       {"TPM_RC_CANCELED", "the command was canceled"},
	RCTesting:        {"TPM_RC_TESTING", "TPM is performing self-tests"},
	RCReferenceH0:    {"TPM_RC_REFERENCE_H0", "the 1st handle in the handle area references a transient object or session that is not loaded"},
	RCReferenceH1:    {"TPM_RC_REFERENCE_H1", "the 2nd handle in the handle area references a transient object or session that is not loaded"},
	RCReferenceH2:    {"TPM_RC_REFERENCE_H2", "the 3rd handle in the handle area references a transient object or session that is not loaded"},
	RCReferenceH3:    {"TPM_RC_REFERENCE_H3", "the 4th handle in the handle area references a transient object or session that is not loaded"},
	RCReferenceH4:    {"TPM_RC_REFERENCE_H4", "the 5th handle in the handle area references a transient object or session that is not loaded"},
	RCReferenceH5:    {"TPM_RC_REFERENCE_H5", "the 6th handle in the handle area references a transient object or session that is not loaded"},
	RCReferenceH6:    {"TPM_RC_REFERENCE_H6", "the 7th handle in the handle area references a transient object or session that is not loaded"},
	RCReferenceS0:    {"TPM_RC_REFERENCE_S0", "the 1st authorization session handle references a session that is not loaded"},
	RCReferenceS1:    {"TPM_RC_REFERENCE_S1", "the 2nd authorization session handle references a session that is not loaded"},
	RCReferenceS2:    {"TPM_RC_REFERENCE_S2", "the 3rd authorization session handle references a session that is not loaded"},
	RCReferenceS3:    {"TPM_RC_REFERENCE_S3", "the 4th authorization session handle references a session that is not loaded"},
	RCReferenceS4:    {"TPM_RC_REFERENCE_S4", "the 5th session handle references a session that is not loaded"},
	RCReferenceS5:    {"TPM_RC_REFERENCE_S5", "the 6th session handle references a session that is not loaded"},
	RCReferenceS6:    {"TPM_RC_REFERENCE_S6", "the 7th authorization session handle references a session that is not loaded"},
	RCNVRate:         {"TPM_RC_NV_RATE", "the TPM is rate-limiting accesses to prevent wearout of NV"},
	RCLockout:        {"TPM_RC_LOCKOUT", "authorizations for objects subject to DA protection are not allowed at this time because the TPM is in DA lockout mode"},
	RCRetry:          {"TPM_RC_RETRY", "the TPM was not able to start the command"},
	RCNVUnavailable:  {"TPM_RC_NV_UNAVAILABLE", "the command may require writing of NV and NV is not current accessible"},
}
