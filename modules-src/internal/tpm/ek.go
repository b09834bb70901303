package tpm

import (
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stepfleet/smallstep/modules-src/internal/tpm/wire"
)

// EK is one endorsement key of the TPM. The JSON names are the Ansible
// module's return values.
type EK struct {
	// Type is "RSA" or "ECC".
	Type string `json:"type"`
	// Bits is the RSA modulus size; zero for ECC.
	Bits int `json:"bits,omitempty"`
	// Curve is the ECC curve ("P-256", "P-384", "P-521"); empty for RSA.
	Curve string `json:"curve,omitempty"`
	// PublicKeyPEM is the key as a PKIX "PUBLIC KEY" PEM block.
	PublicKeyPEM string `json:"public_key_pem"`
	// Fingerprint is "sha256:" and the hex SHA-256 of the PKIX DER key.
	Fingerprint string `json:"fingerprint"`
	// URI is the device ID: "urn:ek:sha256:" and the same digest in
	// standard base64 with padding.
	URI string `json:"uri"`
	// CertificatePEM, Issuer, NotBefore and NotAfter (RFC 3339, UTC) are
	// set when the TPM holds a certificate for this key.
	CertificatePEM string `json:"certificate_pem,omitempty"`
	Issuer         string `json:"issuer,omitempty"`
	NotBefore      string `json:"not_before,omitempty"`
	NotAfter       string `json:"not_after,omitempty"`
	// Source says where the key was read: "nv:0x01c00002" (a certificate in
	// NV), "handle:0x81010001" (a persistent key) or "template" (recreated
	// from the TCG default template; "template:nv:0x01c00004" when the TPM
	// keeps its own template in NV).
	Source string `json:"source"`
	// VerifiedBy is set when a certificate's key was found to be the key the
	// TPM holds, and says how the TPM's key was read (a Source value).
	VerifiedBy string `json:"verified_by,omitempty"`
}

// Kind returns the name SelectEK knows the key by: "rsa2048", "ecc-p256"...
func (e *EK) Kind() string {
	switch e.Type {
	case "RSA":
		return fmt.Sprintf("rsa%d", e.Bits)
	case "ECC":
		return "ecc-" + strings.ToLower(strings.ReplaceAll(e.Curve, "-", ""))
	}
	return ""
}

// Report is everything ReadEKs found.
type Report struct {
	// EKs lists the TPM's endorsement keys, RSA 2048 and ECC P-256 (TCG low
	// range) first, then high-range certificates, then other persistent
	// endorsement keys. A key appears once.
	EKs []EK `json:"eks"`
	// EKURI is the device ID of the EK SelectEK picks by default.
	EKURI string `json:"ek_uri"`
	// Warnings are problems that did not stop the read, such as a
	// certificate whose key is not the TPM's key. Never nil.
	Warnings []string `json:"warnings"`
}

// EK types SelectEK accepts, in the order EKURI prefers the first two.
var ekKinds = []string{"rsa2048", "ecc-p256", "ecc-p384", "ecc-p521", "rsa3072", "rsa4096"}

// SelectEK returns the EK of the given type ("rsa2048", "ecc-p256",
// "ecc-p384", "ecc-p521", "rsa3072", "rsa4096"). An empty type picks the
// default that Report.EKURI names: RSA 2048 if present, else ECC P-256, else
// the first EK listed. The first EK of a type wins, so a low-range key is
// preferred to a high-range key of the same type.
func SelectEK(r *Report, ekType string) (*EK, error) {
	if r == nil || len(r.EKs) == 0 {
		return nil, errors.New("the TPM report lists no endorsement key")
	}
	find := func(kind string) *EK {
		for i := range r.EKs {
			if r.EKs[i].Kind() == kind {
				return &r.EKs[i]
			}
		}
		return nil
	}
	if ekType == "" {
		for _, kind := range ekKinds[:2] {
			if e := find(kind); e != nil {
				return e, nil
			}
		}
		return &r.EKs[0], nil
	}
	kind := strings.ToLower(ekType)
	known := false
	for _, k := range ekKinds {
		known = known || k == kind
	}
	if !known {
		return nil, fmt.Errorf("unknown EK type %q; use one of %s", ekType, strings.Join(ekKinds, ", "))
	}
	if e := find(kind); e != nil {
		return e, nil
	}
	have := make([]string, 0, len(r.EKs))
	for i := range r.EKs {
		have = append(have, r.EKs[i].Kind())
	}
	return nil, fmt.Errorf("this TPM has no %s endorsement key; it has %s", kind, strings.Join(have, ", "))
}

// Where the TCG keeps EK material: TCG EK Credential Profile for TPM Family
// 2.0, section 2.2.1.4 (low range) and 2.2.1.5 (high range), section numbers
// of version 2.4 (2.2.2.4 and 2.2.2.5 in version 2.6); persistent handles
// from the TCG Registry of Reserved TPM 2.0 Handles and Localities, section
// 2.3.1 (endorsement primary keys, 0x81010000-0x8101FFFF).
const (
	nvEKFirst     wire.Handle = 0x01C00002
	nvEKLast      wire.Handle = 0x01C0001E
	handleEKFirst wire.Handle = 0x81010000
	handleEKLast  wire.Handle = 0x8101FFFF
)

// lowRangeEK is an EK type with a TCG default template: its certificate,
// nonce and template indexes and its conventional persistent handle.
type lowRangeEK struct {
	kind, label      string
	cert, nonce, tpl wire.Handle
	handle           wire.Handle
	template         func() wire.Public
}

var lowRangeEKs = []lowRangeEK{
	{"rsa2048", "RSA 2048", 0x01C00002, 0x01C00003, 0x01C00004, 0x81010001, wire.RSAEKTemplate},
	{"ecc-p256", "ECC P-256", 0x01C0000A, 0x01C0000B, 0x01C0000C, 0x81010002, wire.ECCEKTemplate},
}

// highRangeCerts are the high-range certificate indexes: RSA 2048, ECC
// P-256, P-384, P-521, SM2 P-256, RSA 3072, RSA 4096. Their keys come from
// templates go-tpm does not ship, so they are checked against persistent
// keys only.
var highRangeCerts = []wire.Handle{0x01C00012, 0x01C00014, 0x01C00016, 0x01C00018, 0x01C0001A, 0x01C0001C, 0x01C0001E}

// ReadEKs reads every endorsement key the TPM holds.
//
// For RSA 2048 and ECC P-256 it reads the EK certificate from NV and checks
// its key against the TPM's EK, read from a persistent handle or recreated
// from the TCG default template (and flushed at once); without a
// certificate the TPM's EK is reported. High-range certificates and other
// persistent endorsement keys are reported too. Problems that leave other
// keys readable become warnings; an error means no EK could be read.
func ReadEKs(t wire.TPM) (*Report, error) {
	chunk, err := nvBufferMax(t)
	if errors.Is(err, wire.RCInitialize) {
		// The first command a TPM gets after power-on must be TPM2_Startup;
		// firmware sends it, swtpm does only when told to.
		return nil, fmt.Errorf("the TPM has not been started (no TPM2_Startup); for swtpm add --flags not-need-init,startup-clear: %w", err)
	}
	if err != nil {
		return nil, err
	}
	nvList, err := listHandles(t, nvEKFirst, nvEKLast)
	if err != nil {
		return nil, err
	}
	handles, err := listHandles(t, handleEKFirst, handleEKLast)
	if err != nil {
		return nil, err
	}

	r := &ekReader{
		t:      t,
		chunk:  chunk,
		nv:     map[wire.Handle]bool{},
		seen:   map[string]bool{},
		report: &Report{EKs: []EK{}, Warnings: []string{}},
	}
	for _, h := range nvList {
		r.nv[h] = true
	}
	r.loadPersistent(handles)
	for _, s := range lowRangeEKs {
		r.lowRange(s)
	}
	for _, idx := range highRangeCerts {
		if r.nv[idx] {
			r.highRange(idx)
		}
	}
	for _, p := range r.persistent {
		if !r.seen[p.ek.Fingerprint] {
			r.add(p.ek)
		}
	}

	if len(r.report.EKs) == 0 {
		return nil, fmt.Errorf("found no endorsement key: %s", strings.Join(r.report.Warnings, "; "))
	}
	def, err := SelectEK(r.report, "")
	if err != nil {
		return nil, err
	}
	r.report.EKURI = def.URI
	return r.report, nil
}

type ekReader struct {
	t          wire.TPM
	chunk      uint16
	nv         map[wire.Handle]bool
	persistent []persistentEK
	seen       map[string]bool // fingerprints already in the report
	report     *Report
}

type persistentEK struct {
	handle wire.Handle
	ek     EK
}

func (r *ekReader) warnf(format string, args ...any) {
	r.report.Warnings = append(r.report.Warnings, fmt.Sprintf(format, args...))
}

func (r *ekReader) add(e EK) {
	r.seen[e.Fingerprint] = true
	r.report.EKs = append(r.report.EKs, e)
}

// loadPersistent reads the public areas of persistent keys in the
// endorsement range and keeps those shaped like an EK: a restricted
// decryption key bound to this TPM, as every TCG EK template makes (TCG EK
// Credential Profile, annex B). Anything else there (a signing key, say) is
// not an EK.
func (r *ekReader) loadPersistent(handles []wire.Handle) {
	const ekShape = wire.AttrFixedTPM | wire.AttrFixedParent | wire.AttrRestricted | wire.AttrDecrypt
	for _, h := range handles {
		pub, err := wire.ReadPublic(r.t, h)
		if err != nil {
			r.warnf("skipped persistent key 0x%08x: ReadPublic: %v", uint32(h), err)
			continue
		}
		if a := pub.Attributes; a&ekShape != ekShape || a&wire.AttrSignEncrypt != 0 {
			continue
		}
		key, err := publicAreaKey(pub)
		if err != nil {
			r.warnf("skipped persistent key 0x%08x: %v", uint32(h), err)
			continue
		}
		r.persistent = append(r.persistent, persistentEK{handle: h, ek: newEK(key, handleSource(h))})
	}
}

// lowRange reports the EK of one type with a TCG default template.
func (r *ekReader) lowRange(s lowRangeEK) {
	var certEK *EK
	if r.nv[s.cert] {
		e, err := r.certEK(s.cert)
		switch {
		case err != nil:
			r.warnf("skipped the %s EK certificate at NV 0x%08x: %v", s.label, uint32(s.cert), err)
		case e.Kind() != s.kind:
			// Report it, but it says nothing about this type's EK.
			r.warnf("NV 0x%08x should hold an %s EK certificate but holds one for a %s key", uint32(s.cert), s.label, e.Kind())
			r.add(*e)
		default:
			certEK = e
		}
	}

	tpmEK, err := r.tpmEK(s, certEK)
	switch {
	case certEK != nil && err != nil:
		r.warnf("could not check the %s EK certificate at NV 0x%08x against the TPM's key: %v", s.label, uint32(s.cert), err)
		r.add(*certEK)
	case certEK != nil && tpmEK.Fingerprint != certEK.Fingerprint:
		r.warnf("the %s EK certificate at NV 0x%08x is for %s, but the TPM's EK (%s) is %s; reporting the certificate's key",
			s.label, uint32(s.cert), certEK.URI, tpmEK.Source, tpmEK.URI)
		r.add(*certEK)
	case certEK != nil:
		certEK.VerifiedBy = tpmEK.Source
		r.add(*certEK)
	case errors.Is(err, errAlgorithmUnsupported):
		// Not every TPM implements ECC; that is no news worth a warning.
	case err != nil:
		r.warnf("no %s EK: %v", s.label, err)
	case !r.seen[tpmEK.Fingerprint]:
		r.add(*tpmEK)
	}
}

// tpmEK returns the TPM's own key of one EK type: a persistent key equal to
// the certificate's, else the key at the conventional handle, else the key
// recreated from the template.
func (r *ekReader) tpmEK(s lowRangeEK, cert *EK) (*EK, error) {
	if cert != nil {
		for i := range r.persistent {
			if r.persistent[i].ek.Fingerprint == cert.Fingerprint {
				return &r.persistent[i].ek, nil
			}
		}
	}
	for i := range r.persistent {
		if p := &r.persistent[i]; p.handle == s.handle && p.ek.Kind() == s.kind {
			return &p.ek, nil
		}
	}
	return r.recreate(s)
}

// highRange reports a high-range certificate, checked against persistent
// keys where one matches.
func (r *ekReader) highRange(idx wire.Handle) {
	e, err := r.certEK(idx)
	if err != nil {
		r.warnf("skipped the EK certificate at NV 0x%08x: %v", uint32(idx), err)
		return
	}
	if r.seen[e.Fingerprint] {
		return
	}
	for _, p := range r.persistent {
		if p.ek.Fingerprint == e.Fingerprint {
			e.VerifiedBy = p.ek.Source
		}
	}
	r.add(*e)
}

// certEK reads and parses the EK certificate at an NV index.
func (r *ekReader) certEK(idx wire.Handle) (*EK, error) {
	b, err := readNV(r.t, idx, r.chunk)
	if err != nil {
		return nil, err
	}
	c, err := parseEKCert(b)
	if err != nil {
		return nil, err
	}
	e := newEK(c.pub, nvSource(idx))
	e.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.der}))
	e.Issuer = c.issuer
	e.NotBefore = formatTime(c.notBefore)
	e.NotAfter = formatTime(c.notAfter)
	return &e, nil
}

// errAlgorithmUnsupported means the TPM does not implement an EK type's
// algorithm or curve.
var errAlgorithmUnsupported = errors.New("the TPM does not support this key type")

// recreate creates the EK from its template with TPM2_CreatePrimary in the
// endorsement hierarchy (TPM 2.0 Part 3, section 24.1) and flushes it
// (section 28.4) before returning, so no transient object is left behind.
// Primary keys are derived from the hierarchy's seed, so the same template
// always gives the same key.
func (r *ekReader) recreate(s lowRangeEK) (*EK, error) {
	tpl, source, err := r.template(s)
	if err != nil {
		return nil, err
	}
	handle, pub, err := wire.CreatePrimary(r.t, wire.RHEndorsement, &tpl)
	if handle == 0 {
		if errors.Is(err, wire.RCAsymmetric) || errors.Is(err, wire.RCCurve) {
			return nil, fmt.Errorf("%w: creating the %s EK: %w", errAlgorithmUnsupported, s.label, err)
		}
		hint := ""
		switch {
		case errors.Is(err, wire.RCBadAuth), errors.Is(err, wire.RCAuthFail):
			hint = " (the endorsement hierarchy has a password)"
		case errors.Is(err, wire.RCHierarchy):
			hint = " (the endorsement hierarchy is disabled)"
		}
		return nil, fmt.Errorf("creating the %s EK from its template failed%s: %w", s.label, hint, err)
	}
	defer func() {
		if err := wire.FlushContext(r.t, handle); err != nil {
			r.warnf("could not flush the recreated %s EK (transient handle 0x%08x); it stays loaded until the TPM restarts: %v",
				s.label, uint32(handle), err)
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("reading the recreated %s EK: %w", s.label, err)
	}
	key, err := publicAreaKey(pub)
	if err != nil {
		return nil, fmt.Errorf("reading the recreated %s EK: %w", s.label, err)
	}
	e := newEK(key, source)
	return &e, nil
}

// template returns the template to recreate an EK type from: the TPM's own
// from NV when it keeps one, else the TCG default, with the NV nonce, if
// any, in the unique field. That is how the TCG EK Credential Profile
// (low range, section 2.2.1.4 in version 2.4) defines the EK of a TPM that
// populates its EK template or nonce index, and what tpm2_createek
// --template does.
func (r *ekReader) template(s lowRangeEK) (wire.Public, string, error) {
	tpl, source := s.template(), "template"
	if r.nv[s.tpl] {
		b, err := readNV(r.t, s.tpl, r.chunk)
		if err != nil {
			return tpl, "", fmt.Errorf("reading the %s EK template at NV 0x%08x: %w", s.label, uint32(s.tpl), err)
		}
		p, err := wire.UnmarshalPublic(b)
		if err != nil {
			return tpl, "", fmt.Errorf("parsing the %s EK template at NV 0x%08x: %w", s.label, uint32(s.tpl), err)
		}
		tpl, source = *p, "template:"+nvSource(s.tpl)
	}
	if !r.nv[s.nonce] {
		return tpl, source, nil
	}
	nonce, err := readNV(r.t, s.nonce, r.chunk)
	if err != nil {
		return tpl, "", fmt.Errorf("reading the %s EK nonce at NV 0x%08x: %w", s.label, uint32(s.nonce), err)
	}
	switch tpl.Type {
	case wire.AlgRSA:
		buf := make([]byte, 256)
		if len(nonce) > len(buf) {
			return tpl, "", fmt.Errorf("the %s EK nonce at NV 0x%08x is %d bytes, more than 256", s.label, uint32(s.nonce), len(nonce))
		}
		copy(buf, nonce)
		tpl.Unique = buf
	case wire.AlgECC:
		x := make([]byte, 32)
		if len(nonce) > len(x) {
			return tpl, "", fmt.Errorf("the %s EK nonce at NV 0x%08x is %d bytes, more than 32", s.label, uint32(s.nonce), len(nonce))
		}
		copy(x, nonce)
		tpl.X, tpl.Y = x, make([]byte, 32)
	}
	return tpl, source + "+nonce:" + nvSource(s.nonce), nil
}

// newEK fills in everything about a key that does not depend on where it
// was found.
func newEK(key *publicKey, source string) EK {
	der := marshalPKIX(key)
	fp, uri := keyIDs(der)
	typ, bits, curve := describeKey(key)
	return EK{
		Type:         typ,
		Bits:         bits,
		Curve:        curve,
		PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		Fingerprint:  fp,
		URI:          uri,
		Source:       source,
	}
}

func nvSource(h wire.Handle) string     { return fmt.Sprintf("nv:0x%08x", uint32(h)) }
func handleSource(h wire.Handle) string { return fmt.Sprintf("handle:0x%08x", uint32(h)) }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
