package tpm

import (
	"errors"
	"fmt"

	"github.com/stepfleet/smallstep/modules-src/internal/tpm/wire"
)

// listHandles returns the handles in [first, last] that the TPM reports with
// TPM2_GetCapability(TPM_CAP_HANDLES) (TPM 2.0 Part 3, section 30.2). Asking
// beats probing: a probe of an undefined index costs a command and, on some
// TPMs, an error in the event log.
func listHandles(t wire.TPM, first, last wire.Handle) ([]wire.Handle, error) {
	var out []wire.Handle
	next := first
	for {
		hs, more, err := wire.GetHandles(t, next, 64)
		if err != nil {
			return nil, fmt.Errorf("listing TPM handles from 0x%08x: %w", uint32(first), err)
		}
		for _, h := range hs {
			if h < next || h > last {
				return out, nil
			}
			out = append(out, h)
		}
		if !more || len(hs) == 0 {
			return out, nil
		}
		next = hs[len(hs)-1] + 1
	}
}

// nvBufferMax returns TPM_PT_NV_BUFFER_MAX (TPM 2.0 Part 2, section 6.13),
// the largest chunk TPM2_NV_Read accepts.
func nvBufferMax(t wire.TPM) (uint16, error) {
	props, _, err := wire.GetProperties(t, wire.PTNVBufferMax, 1)
	if err != nil {
		return 0, fmt.Errorf("reading TPM_PT_NV_BUFFER_MAX: %w", err)
	}
	// A TPM that does not report the property returns the next one instead;
	// 512 bytes is below every real TPM's buffer.
	if len(props) == 0 || props[0].Property != wire.PTNVBufferMax || props[0].Value == 0 {
		return 512, nil
	}
	if v := props[0].Value; v < 0xffff {
		return uint16(v), nil
	}
	return 0xffff, nil
}

// readNV reads the whole of an ordinary NV index: TPM2_NV_ReadPublic for its
// size and attributes, then TPM2_NV_Read in chunks of at most chunk bytes
// (TPM 2.0 Part 3, sections 31.6 and 31.13).
//
// EK certificate indexes are readable with an empty authorization, by the
// index itself (TPMA_NV_AUTHREAD) or by the owner (TPMA_NV_OWNERREAD), as
// the TCG EK Credential Profile sets them; the index's own authorization is
// preferred so that an owner password does not get in the way.
func readNV(t wire.TPM, index wire.Handle, chunk uint16) ([]byte, error) {
	pub, _, err := wire.NVReadPublic(t, index)
	if err != nil {
		return nil, fmt.Errorf("NV_ReadPublic: %w", err)
	}
	attrs := pub.Attributes
	switch {
	case attrs.NT() != 0:
		return nil, fmt.Errorf("not an ordinary NV index (type %d)", attrs.NT())
	case attrs&wire.NVWritten == 0:
		return nil, errors.New("defined but never written")
	case attrs&wire.NVReadLocked != 0:
		return nil, errors.New("read-locked until the next TPM restart")
	case pub.DataSize == 0:
		return nil, errors.New("empty")
	}

	var auth wire.Handle
	switch {
	case attrs&wire.NVAuthRead != 0:
		auth = index
	case attrs&wire.NVOwnerRead != 0:
		auth = wire.RHOwner
	default:
		return nil, errors.New("readable only with platform authorization or a policy, which this reader does not use")
	}

	if chunk == 0 {
		chunk = 512
	}
	out := make([]byte, 0, pub.DataSize)
	for len(out) < int(pub.DataSize) {
		n := min(int(pub.DataSize)-len(out), int(chunk))
		data, err := wire.NVRead(t, auth, index, uint16(n), uint16(len(out)))
		if err != nil {
			return nil, fmt.Errorf("NV_Read at offset %d: %w", len(out), err)
		}
		if len(data) == 0 || len(data) > n {
			return nil, fmt.Errorf("NV_Read at offset %d returned %d bytes, want 1 to %d", len(out), len(data), n)
		}
		out = append(out, data...)
	}
	return out, nil
}
