package wire

import (
	"errors"
	"fmt"
)

// passwordSession is TPMS_AUTH_COMMAND (TPM 2.0 Part 1, section 19.8.4)
// for an empty password: TPM_RS_PW, no nonce, no attributes, empty HMAC.
var passwordSession = []byte{0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00}

// run sends a command and returns its response handles and parameters.
// The first auths of handles are authorized with an empty password, the
// only authorization this package uses.
func run(t TPM, cc uint32, handles []Handle, auths int, params []byte, rspHandles int) ([]Handle, []byte, error) {
	e := &encoder{}
	tag := stNoSessions
	if auths > 0 {
		tag = stSessions
	}
	e.u16(tag)
	e.u32(0) // size, set below
	e.u32(cc)
	for _, h := range handles {
		e.u32(uint32(h))
	}
	if auths > 0 {
		e.u32(uint32(auths * len(passwordSession)))
		for i := 0; i < auths; i++ {
			e.b = append(e.b, passwordSession...)
		}
	}
	e.b = append(e.b, params...)
	size := uint32(len(e.b))
	e.b[2], e.b[3], e.b[4], e.b[5] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)

	rsp, err := t.Send(e.b)
	if err != nil {
		return nil, nil, err
	}
	d := &decoder{b: rsp}
	d.u16() // tag
	d.u32() // size
	rc := RC(d.u32())
	if d.err != nil {
		return nil, nil, fmt.Errorf("unmarshalling TPM response: %w", d.err)
	}
	if rc != RCSuccess {
		return nil, nil, rc
	}
	outHandles := make([]Handle, rspHandles)
	for i := range outHandles {
		outHandles[i] = Handle(d.u32())
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("unmarshalling TPM response handles: %w", d.err)
	}
	if auths == 0 {
		return outHandles, d.b, nil
	}
	// With sessions, the parameters have a size and one TPMS_AUTH_RESPONSE
	// per session follows them (TPM 2.0 Part 1, section 18.10).
	out := d.take(int(d.u32()))
	for i := 0; i < auths && d.err == nil; i++ {
		nonce, attrs, hmac := d.tpm2b(), d.u8(), d.tpm2b()
		if d.err == nil && (len(nonce) != 0 || attrs != 1 || len(hmac) != 0) {
			return nil, nil, fmt.Errorf("the TPM's answer to password session %d is not a password session's (nonce %x, attributes 0x%02x, HMAC %x)", i, nonce, attrs, hmac)
		}
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("unmarshalling TPM response: %w", d.err)
	}
	if len(d.b) != 0 {
		return nil, nil, fmt.Errorf("%d unaccounted-for bytes at the end of the TPM response", len(d.b))
	}
	return outHandles, out, nil
}

// Capabilities (TPM 2.0 Part 2, section 6.12).
const (
	capHandles       uint32 = 0x00000001
	capTPMProperties uint32 = 0x00000006
)

// PTNVBufferMax is TPM_PT_NV_BUFFER_MAX (TPM 2.0 Part 2, section 6.13), the
// largest chunk TPM2_NV_Read accepts.
const PTNVBufferMax uint32 = 0x100 + 44

// getCapability runs TPM2_GetCapability (TPM 2.0 Part 3, section 30.2) and
// returns a decoder on the list that follows the capability.
func getCapability(t TPM, capability, property, count uint32) (more bool, list *decoder, err error) {
	p := &encoder{}
	p.u32(capability)
	p.u32(property)
	p.u32(count)
	_, params, err := run(t, ccGetCapability, nil, 0, p.b, 0)
	if err != nil {
		return false, nil, err
	}
	d := &decoder{b: params}
	more = d.u8() != 0
	got := d.u32()
	if d.err == nil && got != capability {
		return false, nil, fmt.Errorf("the TPM answered capability %d, asked for %d", got, capability)
	}
	return more, d, d.err
}

// GetHandles returns up to count handles from first up, as
// TPM2_GetCapability(TPM_CAP_HANDLES) lists them, and whether there are
// more.
func GetHandles(t TPM, first Handle, count uint32) ([]Handle, bool, error) {
	more, d, err := getCapability(t, capHandles, uint32(first), count)
	if err != nil {
		return nil, false, err
	}
	n := d.u32()
	if d.err == nil && uint64(n)*4 > uint64(len(d.b)) {
		return nil, false, fmt.Errorf("TPML_HANDLE: %d handles in %d bytes", n, len(d.b))
	}
	hs := make([]Handle, 0, n)
	for i := uint32(0); i < n && d.err == nil; i++ {
		hs = append(hs, Handle(d.u32()))
	}
	if d.err != nil {
		return nil, false, fmt.Errorf("TPML_HANDLE: %w", d.err)
	}
	return hs, more, nil
}

// TaggedProperty is TPMS_TAGGED_PROPERTY (TPM 2.0 Part 2, section 10.8.2).
type TaggedProperty struct {
	Property, Value uint32
}

// GetProperties returns up to count TPM properties from first up, as
// TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES) lists them, and whether there
// are more.
func GetProperties(t TPM, first, count uint32) ([]TaggedProperty, bool, error) {
	more, d, err := getCapability(t, capTPMProperties, first, count)
	if err != nil {
		return nil, false, err
	}
	n := d.u32()
	if d.err == nil && uint64(n)*8 > uint64(len(d.b)) {
		return nil, false, fmt.Errorf("TPML_TAGGED_TPM_PROPERTY: %d properties in %d bytes", n, len(d.b))
	}
	ps := make([]TaggedProperty, 0, n)
	for i := uint32(0); i < n && d.err == nil; i++ {
		ps = append(ps, TaggedProperty{Property: d.u32(), Value: d.u32()})
	}
	if d.err != nil {
		return nil, false, fmt.Errorf("TPML_TAGGED_TPM_PROPERTY: %w", d.err)
	}
	return ps, more, nil
}

// NVReadPublic runs TPM2_NV_ReadPublic (TPM 2.0 Part 3, section 31.6) and
// returns the index's public area and its name.
func NVReadPublic(t TPM, index Handle) (*NVPublic, []byte, error) {
	_, params, err := run(t, ccNVReadPublic, []Handle{index}, 0, nil, 0)
	if err != nil {
		return nil, nil, err
	}
	d := &decoder{b: params}
	inner := &decoder{b: d.tpm2b()}
	name := d.tpm2b()
	if d.err != nil {
		return nil, nil, fmt.Errorf("TPM2B_NV_PUBLIC: %w", d.err)
	}
	pub := &NVPublic{
		Index:      Handle(inner.u32()),
		NameAlg:    AlgID(inner.u16()),
		Attributes: NVAttributes(inner.u32()),
		AuthPolicy: inner.tpm2b(),
		DataSize:   inner.u16(),
	}
	if inner.err != nil {
		return nil, nil, fmt.Errorf("TPMS_NV_PUBLIC: %w", inner.err)
	}
	return pub, name, nil
}

// NVRead runs TPM2_NV_Read (TPM 2.0 Part 3, section 31.13): size bytes of
// the index from offset, authorized by auth (the index itself or the
// owner) with an empty password.
func NVRead(t TPM, auth, index Handle, size, offset uint16) ([]byte, error) {
	p := &encoder{}
	p.u16(size)
	p.u16(offset)
	_, params, err := run(t, ccNVRead, []Handle{auth, index}, 1, p.b, 0)
	if err != nil {
		return nil, err
	}
	d := &decoder{b: params}
	data := d.tpm2b()
	if d.err != nil {
		return nil, fmt.Errorf("TPM2B_MAX_NV_BUFFER: %w", d.err)
	}
	return data, nil
}

// ReadPublic runs TPM2_ReadPublic (TPM 2.0 Part 3, section 12.4) and
// returns the object's public area.
func ReadPublic(t TPM, object Handle) (*Public, error) {
	_, params, err := run(t, ccReadPublic, []Handle{object}, 0, nil, 0)
	if err != nil {
		return nil, err
	}
	d := &decoder{b: params}
	pub := decodePublic2B(d)
	if d.err != nil {
		return nil, d.err
	}
	return pub, nil
}

// CreatePrimary runs TPM2_CreatePrimary (TPM 2.0 Part 3, section 24.1) in a
// hierarchy authorized with an empty password, with an empty sensitive
// area, and returns the transient handle and public area of the object.
// The caller flushes the handle.
func CreatePrimary(t TPM, hierarchy Handle, template *Public) (Handle, *Public, error) {
	p := &encoder{}
	// TPM2B_SENSITIVE_CREATE holding an empty userAuth and data.
	p.tpm2b([]byte{0, 0, 0, 0})
	p.tpm2b(template.Marshal())
	p.tpm2b(nil) // outsideInfo
	p.u32(0)     // creationPCR: no PCR selections
	hs, params, err := run(t, ccCreatePrimary, []Handle{hierarchy}, 1, p.b, 1)
	if err != nil {
		return 0, nil, err
	}
	d := &decoder{b: params}
	pub := decodePublic2B(d)
	if d.err != nil {
		// The object exists even if its description is unreadable.
		return hs[0], nil, d.err
	}
	return hs[0], pub, nil
}

// FlushContext runs TPM2_FlushContext (TPM 2.0 Part 3, section 28.4),
// removing a transient object from the TPM.
func FlushContext(t TPM, h Handle) error {
	p := &encoder{}
	p.u32(uint32(h))
	_, _, err := run(t, ccFlushContext, nil, 0, p.b, 0)
	return err
}

// ResponseCode returns the response code in a response's header.
func ResponseCode(rsp []byte) (RC, error) {
	if len(rsp) < 10 {
		return 0, errors.New("a TPM response is at least 10 bytes")
	}
	return RC(uint32(rsp[6])<<24 | uint32(rsp[7])<<16 | uint32(rsp[8])<<8 | uint32(rsp[9])), nil
}
