package tpm

import (
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// listHandles returns the handles in [first, last] that the TPM reports with
// TPM2_GetCapability(TPM_CAP_HANDLES) (TPM 2.0 Part 3, section 30.2). Asking
// beats probing: a probe of an undefined index costs a command and, on some
// TPMs, an error in the event log.
func listHandles(t transport.TPM, first, last tpm2.TPMHandle) ([]tpm2.TPMHandle, error) {
	var out []tpm2.TPMHandle
	next := first
	for {
		rsp, err := tpm2.GetCapability{
			Capability:    tpm2.TPMCapHandles,
			Property:      uint32(next),
			PropertyCount: 64,
		}.Execute(t)
		if err != nil {
			return nil, fmt.Errorf("listing TPM handles from 0x%08x: %w", uint32(first), err)
		}
		hs, err := rsp.CapabilityData.Data.Handles()
		if err != nil {
			return nil, fmt.Errorf("listing TPM handles from 0x%08x: %w", uint32(first), err)
		}
		for _, h := range hs.Handle {
			if h < next || h > last {
				return out, nil
			}
			out = append(out, h)
		}
		if !bool(rsp.MoreData) || len(hs.Handle) == 0 {
			return out, nil
		}
		next = hs.Handle[len(hs.Handle)-1] + 1
	}
}

// nvBufferMax returns TPM_PT_NV_BUFFER_MAX (TPM 2.0 Part 2, section 6.13),
// the largest chunk TPM2_NV_Read accepts.
func nvBufferMax(t transport.TPM) (uint16, error) {
	rsp, err := tpm2.GetCapability{
		Capability:    tpm2.TPMCapTPMProperties,
		Property:      uint32(tpm2.TPMPTNVBufferMax),
		PropertyCount: 1,
	}.Execute(t)
	if err != nil {
		return 0, fmt.Errorf("reading TPM_PT_NV_BUFFER_MAX: %w", err)
	}
	props, err := rsp.CapabilityData.Data.TPMProperties()
	if err != nil {
		return 0, fmt.Errorf("reading TPM_PT_NV_BUFFER_MAX: %w", err)
	}
	// A TPM that does not report the property returns the next one instead;
	// 512 bytes is below every real TPM's buffer.
	if len(props.TPMProperty) == 0 || props.TPMProperty[0].Property != tpm2.TPMPTNVBufferMax ||
		props.TPMProperty[0].Value == 0 {
		return 512, nil
	}
	if v := props.TPMProperty[0].Value; v < 0xffff {
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
func readNV(t transport.TPM, index tpm2.TPMHandle, chunk uint16) ([]byte, error) {
	pubRsp, err := tpm2.NVReadPublic{NVIndex: index}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("NV_ReadPublic: %w", err)
	}
	pub, err := pubRsp.NVPublic.Contents()
	if err != nil {
		return nil, fmt.Errorf("NV_ReadPublic: %w", err)
	}
	attrs := pub.Attributes
	switch {
	case attrs.NT != tpm2.TPMNTOrdinary:
		return nil, fmt.Errorf("not an ordinary NV index (type %d)", attrs.NT)
	case !attrs.Written:
		return nil, errors.New("defined but never written")
	case attrs.ReadLocked:
		return nil, errors.New("read-locked until the next TPM restart")
	case pub.DataSize == 0:
		return nil, errors.New("empty")
	}

	named := tpm2.NamedHandle{Handle: index, Name: pubRsp.NVName}
	var auth tpm2.AuthHandle
	switch {
	case attrs.AuthRead:
		auth = tpm2.AuthHandle{Handle: index, Name: pubRsp.NVName, Auth: tpm2.PasswordAuth(nil)}
	case attrs.OwnerRead:
		auth = tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
	default:
		return nil, errors.New("readable only with platform authorization or a policy, which this reader does not use")
	}

	if chunk == 0 {
		chunk = 512
	}
	out := make([]byte, 0, pub.DataSize)
	for len(out) < int(pub.DataSize) {
		n := min(int(pub.DataSize)-len(out), int(chunk))
		rsp, err := tpm2.NVRead{
			AuthHandle: auth,
			NVIndex:    named,
			Size:       uint16(n),
			Offset:     uint16(len(out)),
		}.Execute(t)
		if err != nil {
			return nil, fmt.Errorf("NV_Read at offset %d: %w", len(out), err)
		}
		if len(rsp.Data.Buffer) == 0 || len(rsp.Data.Buffer) > n {
			return nil, fmt.Errorf("NV_Read at offset %d returned %d bytes, want 1 to %d", len(out), len(rsp.Data.Buffer), n)
		}
		out = append(out, rsp.Data.Buffer...)
	}
	return out, nil
}
