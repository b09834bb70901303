package wire

// Response codes and their names, TPM_RC_* (TPM 2.0 Part 2, section 6.6.3).
// Messages give the spec's name, plus a hint of ours for the codes that
// reading endorsement keys can meet; wire_test.go holds the names equal to
// the ones go-tpm reports.

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

var fmt0Descs = map[RC]string{
	RCInitialize:      "TPM_RC_INITIALIZE",
	RCFailure:         "TPM_RC_FAILURE",
	RCSequence:        "TPM_RC_SEQUENCE",
	RCPrivate:         "TPM_RC_PRIVATE",
	RCHMAC:            "TPM_RC_HMAC",
	RCDisabled:        "TPM_RC_DISABLED",
	RCExclusive:       "TPM_RC_EXCLUSIVE",
	RCAuthType:        "TPM_RC_AUTH_TYPE",
	RCAuthMissing:     "TPM_RC_AUTH_MISSING",
	RCPolicy:          "TPM_RC_POLICY",
	RCPCR:             "TPM_RC_PCR",
	RCPCRChanged:      "TPM_RC_PCR_CHANGED",
	RCUpgrade:         "TPM_RC_UPGRADE",
	RCTooManyContexts: "TPM_RC_TOO_MANY_CONTEXTS",
	RCAuthUnavailable: "TPM_RC_AUTH_UNAVAILABLE",
	RCReboot:          "TPM_RC_REBOOT",
	RCUnbalanced:      "TPM_RC_UNBALANCED",
	RCCommandSize:     "TPM_RC_COMMAND_SIZE",
	RCCommandCode:     "TPM_RC_COMMAND_CODE",
	RCAuthSize:        "TPM_RC_AUTHSIZE",
	RCAuthContext:     "TPM_RC_AUTH_CONTEXT",
	RCNVRange:         "TPM_RC_NV_RANGE",
	RCNVSize:          "TPM_RC_NV_SIZE",
	RCNVLocked:        "TPM_RC_NV_LOCKED",
	RCNVAuthorization: "TPM_RC_NV_AUTHORIZATION",
	RCNVUninitialized: "TPM_RC_NV_UNINITIALIZED",
	RCNVSpace:         "TPM_RC_NV_SPACE",
	RCNVDefined:       "TPM_RC_NV_DEFINED",
	RCBadContext:      "TPM_RC_BAD_CONTEXT",
	RCCPHash:          "TPM_RC_CPHASH",
	RCParent:          "TPM_RC_PARENT",
	RCNeedsTest:       "TPM_RC_NEEDS_TEST",
	RCNoResult:        "TPM_RC_NO_RESULT",
	RCSensitive:       "TPM_RC_SENSITIVE",
}

var fmt1Descs = map[RC]string{
	RCAsymmetric:   "TPM_RC_ASYMMETRIC RC_FMT1",
	RCAttributes:   "TPM_RC_ATTRIBUTES",
	RCHash:         "TPM_RC_HASH",
	RCValue:        "TPM_RC_VALUE",
	RCHierarchy:    "TPM_RC_HIERARCHY",
	RCKeySize:      "TPM_RC_KEY_SIZE",
	RCMGF:          "TPM_RC_MGF",
	RCMode:         "TPM_RC_MODE",
	RCType:         "TPM_RC_TYPE",
	RCHandle:       "TPM_RC_HANDLE",
	RCKDF:          "TPM_RC_KDF",
	RCRange:        "TPM_RC_RANGE",
	RCAuthFail:     "TPM_RC_AUTH_FAIL",
	RCNonce:        "TPM_RC_NONCE",
	RCPP:           "TPM_RC_PP",
	RCScheme:       "TPM_RC_SCHEME",
	RCSize:         "TPM_RC_SIZE",
	RCSymmetric:    "TPM_RC_SYMMETRIC",
	RCTag:          "TPM_RC_TAG",
	RCSelector:     "TPM_RC_SELECTOR",
	RCInsufficient: "TPM_RC_INSUFFICIENT",
	RCSignature:    "TPM_RC_SIGNATURE",
	RCKey:          "TPM_RC_KEY",
	RCPolicyFail:   "TPM_RC_POLICY_FAIL",
	RCIntegrity:    "TPM_RC_INTEGRITY",
	RCTicket:       "TPM_RC_TICKET",
	RCReservedBits: "TPM_RC_RESERVED_BITS",
	RCBadAuth:      "TPM_RC_BAD_AUTH",
	RCExpired:      "TPM_RC_EXPIRED",
	RCPolicyCC:     "TPM_RC_POLICY_CC",
	RCBinding:      "TPM_RC_BINDING",
	RCCurve:        "TPM_RC_CURVE",
	RCECCPoint:     "TPM_RC_ECC_POINT",
}

var warnDescs = map[RC]string{
	RCContextGap:     "TPM_RC_CONTEXT_GAP",
	RCObjectMemory:   "TPM_RC_OBJECT_MEMORY",
	RCSessionMemory:  "TPM_RC_SESSION_MEMORY",
	RCMemory:         "TPM_RC_MEMORY",
	RCSessionHandles: "TPM_RC_SESSION_HANDLES",
	RCObjectHandles:  "TPM_RC_OBJECT_HANDLES",
	RCLocality:       "TPM_RC_LOCALITY",
	RCYielded:        "TPM_RC_YIELDED",
	RCCanceled:       "TPM_RC_CANCELED",
	RCTesting:        "TPM_RC_TESTING",
	RCReferenceH0:    "TPM_RC_REFERENCE_H0",
	RCReferenceH1:    "TPM_RC_REFERENCE_H1",
	RCReferenceH2:    "TPM_RC_REFERENCE_H2",
	RCReferenceH3:    "TPM_RC_REFERENCE_H3",
	RCReferenceH4:    "TPM_RC_REFERENCE_H4",
	RCReferenceH5:    "TPM_RC_REFERENCE_H5",
	RCReferenceH6:    "TPM_RC_REFERENCE_H6",
	RCReferenceS0:    "TPM_RC_REFERENCE_S0",
	RCReferenceS1:    "TPM_RC_REFERENCE_S1",
	RCReferenceS2:    "TPM_RC_REFERENCE_S2",
	RCReferenceS3:    "TPM_RC_REFERENCE_S3",
	RCReferenceS4:    "TPM_RC_REFERENCE_S4",
	RCReferenceS5:    "TPM_RC_REFERENCE_S5",
	RCReferenceS6:    "TPM_RC_REFERENCE_S6",
	RCNVRate:         "TPM_RC_NV_RATE",
	RCLockout:        "TPM_RC_LOCKOUT",
	RCRetry:          "TPM_RC_RETRY",
	RCNVUnavailable:  "TPM_RC_NV_UNAVAILABLE",
}

// hints say, for the codes a reader of endorsement keys meets, what they
// mean here and what to do.
var hints = map[RC]string{
	RCInitialize:      "the TPM was not started (TPM2_Startup); swtpm needs --flags startup-clear",
	RCAuthFail:        "a wrong password; the TPM's lockout counter went up",
	RCBadAuth:         "a wrong password",
	RCLockout:         "the TPM is in dictionary-attack lockout; wait for it or reset it with the lockout password",
	RCHierarchy:       "the hierarchy is disabled",
	RCHandle:          "no such object or NV index",
	RCRetry:           "the TPM is busy; try again",
	RCYielded:         "the TPM is busy; try again",
	RCTesting:         "the TPM is running its self-test; try again",
	RCNVUninitialized: "the NV index was never written",
	RCNVAuthorization: "the NV index cannot be read without its authorization",
}
