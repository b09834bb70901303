package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/require"
)

// This package replaces go-tpm in the target-side module; go-tpm stays the
// reference its tests hold it to.

// recorder is a TPM that keeps the last command and answers with rsp.
type recorder struct {
	cmd []byte
	rsp []byte
}

func (r *recorder) Send(cmd []byte) ([]byte, error) {
	r.cmd = append([]byte{}, cmd...)
	return r.rsp, nil
}

// failure is a response with TPM_RC_FAILURE, which ends any command.
var failure = []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x01}

// sent returns the command that f sends.
func sent(f func(t TPM)) []byte {
	r := &recorder{rsp: failure}
	f(r)
	return r.cmd
}

func TestCommandsMatchGoTPM(t *testing.T) {
	const idx, owner = Handle(0x01C00002), Handle(0x40000001)
	name := []byte{0x00, 0x0b, 1, 2, 3}
	rsaTpl, eccTpl := RSAEKTemplate(), ECCEKTemplate()
	tests := []struct {
		name   string
		ours   func(t TPM)
		gotpm  func(t TPM)
		wantRC bool
	}{
		{
			"GetCapability(handles)",
			func(t TPM) { GetHandles(t, 0x81010000, 64) },
			func(t TPM) {
				tpm2.GetCapability{Capability: tpm2.TPMCapHandles, Property: 0x81010000, PropertyCount: 64}.Execute(t)
			},
			true,
		},
		{
			"GetCapability(TPM properties)",
			func(t TPM) { GetProperties(t, PTNVBufferMax, 1) },
			func(t TPM) {
				tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(tpm2.TPMPTNVBufferMax), PropertyCount: 1}.Execute(t)
			},
			true,
		},
		{
			"NV_ReadPublic",
			func(t TPM) { NVReadPublic(t, idx) },
			func(t TPM) { tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(idx)}.Execute(t) },
			true,
		},
		{
			"NV_Read with the index's authorization",
			func(t TPM) { NVRead(t, idx, idx, 512, 1024) },
			func(t TPM) {
				tpm2.NVRead{
					AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(idx), Name: tpm2.TPM2BName{Buffer: name}, Auth: tpm2.PasswordAuth(nil)},
					NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(idx), Name: tpm2.TPM2BName{Buffer: name}},
					Size:       512,
					Offset:     1024,
				}.Execute(t)
			},
			true,
		},
		{
			"NV_Read with the owner's authorization",
			func(t TPM) { NVRead(t, owner, idx, 7, 0) },
			func(t TPM) {
				tpm2.NVRead{
					AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
					NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(idx), Name: tpm2.TPM2BName{Buffer: name}},
					Size:       7,
				}.Execute(t)
			},
			true,
		},
		{
			"ReadPublic",
			func(t TPM) { ReadPublic(t, 0x81010001) },
			func(t TPM) { tpm2.ReadPublic{ObjectHandle: tpm2.TPMHandle(0x81010001)}.Execute(t) },
			true,
		},
		{
			"CreatePrimary RSA",
			func(t TPM) { CreatePrimary(t, RHEndorsement, &rsaTpl) },
			func(t TPM) {
				tpm2.CreatePrimary{
					PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHEndorsement, Auth: tpm2.PasswordAuth(nil)},
					InPublic:      tpm2.New2B(tpm2.RSAEKTemplate),
				}.Execute(t)
			},
			true,
		},
		{
			"CreatePrimary ECC",
			func(t TPM) { CreatePrimary(t, RHEndorsement, &eccTpl) },
			func(t TPM) {
				tpm2.CreatePrimary{
					PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHEndorsement, Auth: tpm2.PasswordAuth(nil)},
					InPublic:      tpm2.New2B(tpm2.ECCEKTemplate),
				}.Execute(t)
			},
			true,
		},
		{
			"FlushContext",
			func(t TPM) { FlushContext(t, 0x80000001) },
			func(t TPM) { tpm2.FlushContext{FlushHandle: tpm2.TPMHandle(0x80000001)}.Execute(t) },
			true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := sent(tt.gotpm)
			require.NotEmpty(t, want)
			require.Equal(t, want, sent(tt.ours))
		})
	}
}

func TestTemplatesMatchGoTPM(t *testing.T) {
	rsa, ecc := RSAEKTemplate(), ECCEKTemplate()
	require.Equal(t, tpm2.Marshal(&tpm2.RSAEKTemplate), rsa.Marshal())
	require.Equal(t, tpm2.Marshal(&tpm2.ECCEKTemplate), ecc.Marshal())

	// Fresh buffers every time: callers put nonces into them.
	rsa.Unique[0] = 1
	require.Zero(t, RSAEKTemplate().Unique[0])
}

func TestConstantsMatchGoTPM(t *testing.T) {
	require.EqualValues(t, tpm2.TPMPTNVBufferMax, PTNVBufferMax)
	require.EqualValues(t, tpm2.TPMRHOwner, RHOwner)
	require.EqualValues(t, tpm2.TPMRHEndorsement, RHEndorsement)
	require.EqualValues(t, tpm2.TPMRSPW, RSPW)
	require.EqualValues(t, tpm2.TPMECCNistP256, ECCNistP256)
	require.EqualValues(t, tpm2.TPMECCNistP384, ECCNistP384)
	require.EqualValues(t, tpm2.TPMECCNistP521, ECCNistP521)
	require.EqualValues(t, tpm2.TPMNTOrdinary, 0)
	attrs := tpm2.TPMANV{OwnerRead: true, AuthRead: true, ReadLocked: true, Written: true, NT: tpm2.TPMNTCounter}
	got := NVAttributes(binary.BigEndian.Uint32(tpm2.Marshal(&attrs)))
	require.Equal(t, NVOwnerRead|NVAuthRead|NVReadLocked|NVWritten|NVAttributes(tpm2.TPMNTCounter)<<4, got)
	require.EqualValues(t, tpm2.TPMNTCounter, got.NT())
}

func TestRCMatchesGoTPM(t *testing.T) {
	canonical := []RC{RCInitialize, RCAsymmetric, RCCurve, RCAuthFail, RCBadAuth, RCHierarchy, RCHandle, RCRetry, RCValue}
	for rc := uint32(0); rc < 0x1000; rc++ {
		// The same name and subject as go-tpm; the rest is our own hint.
		ours, theirs := RC(rc).Error(), tpm2.TPMRC(rc).Error()
		name, _, _ := strings.Cut(ours, ": ")
		require.True(t, strings.HasPrefix(theirs, name), "0x%03x: %q vs %q", rc, ours, theirs)
		for _, c := range canonical {
			require.Equal(t, errors.Is(tpm2.TPMRC(rc), tpm2.TPMRC(c)), errors.Is(RC(rc), c), "0x%03x is 0x%03x", rc, uint32(c))
		}
	}
	require.EqualError(t, RC(0x98E), "TPM_RC_AUTH_FAIL (session 1): a wrong password; the TPM's lockout counter went up")
}

// response builds a TPM response: success, the handles, then the
// parameters, with a password session's answer when sessions is set.
func response(sessions bool, handles []uint32, params []byte) []byte {
	e := &encoder{}
	tag := stNoSessions
	if sessions {
		tag = stSessions
	}
	e.u16(tag)
	e.u32(0)
	e.u32(0)
	for _, h := range handles {
		e.u32(h)
	}
	if sessions {
		e.u32(uint32(len(params)))
	}
	e.b = append(e.b, params...)
	if sessions {
		e.b = append(e.b, 0, 0, 1, 0, 0)
	}
	binary.BigEndian.PutUint32(e.b[2:], uint32(len(e.b)))
	return e.b
}

func TestResponses(t *testing.T) {
	t.Run("handles", func(t *testing.T) {
		r := &recorder{rsp: response(false, nil, []byte{1, 0, 0, 0, 1, 0, 0, 0, 2, 0x81, 1, 0, 1, 0x81, 1, 0, 2})}
		hs, more, err := GetHandles(r, 0x81010000, 64)
		require.NoError(t, err)
		require.True(t, more)
		require.Equal(t, []Handle{0x81010001, 0x81010002}, hs)
	})
	t.Run("handle count beyond the response", func(t *testing.T) {
		r := &recorder{rsp: response(false, nil, []byte{0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})}
		_, _, err := GetHandles(r, 0x81010000, 64)
		require.ErrorContains(t, err, "TPML_HANDLE: 4294967295 handles in 0 bytes")
	})
	t.Run("another capability", func(t *testing.T) {
		r := &recorder{rsp: response(false, nil, []byte{0, 0, 0, 0, 6, 0, 0, 0, 0})}
		_, _, err := GetHandles(r, 0x81010000, 64)
		require.EqualError(t, err, "the TPM answered capability 6, asked for 1")
	})
	t.Run("properties", func(t *testing.T) {
		r := &recorder{rsp: response(false, nil, []byte{0, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 1, 0x2c, 0, 0, 0x08, 0})}
		ps, more, err := GetProperties(r, PTNVBufferMax, 1)
		require.NoError(t, err)
		require.False(t, more)
		require.Equal(t, []TaggedProperty{{PTNVBufferMax, 0x800}}, ps)
	})
	t.Run("NV read", func(t *testing.T) {
		r := &recorder{rsp: response(true, nil, []byte{0, 3, 'a', 'b', 'c'})}
		b, err := NVRead(r, 0x01C00002, 0x01C00002, 3, 0)
		require.NoError(t, err)
		require.Equal(t, []byte("abc"), b)
	})
	t.Run("NV read with a session answer that is not a password session's", func(t *testing.T) {
		rsp := response(true, nil, []byte{0, 1, 'a'})
		rsp[len(rsp)-3] = 0 // attributes without continueSession
		_, err := NVRead(&recorder{rsp: rsp}, 0x01C00002, 0x01C00002, 1, 0)
		require.ErrorContains(t, err, "not a password session's")
	})
	t.Run("NV read with bytes after the session", func(t *testing.T) {
		rsp := append(response(true, nil, []byte{0, 1, 'a'}), 0)
		_, err := NVRead(&recorder{rsp: rsp}, 0x01C00002, 0x01C00002, 1, 0)
		require.ErrorContains(t, err, "1 unaccounted-for bytes")
	})
	t.Run("NV public", func(t *testing.T) {
		nv := tpm2.TPMSNVPublic{
			NVIndex:    0x01C00002,
			NameAlg:    tpm2.TPMAlgSHA256,
			Attributes: tpm2.TPMANV{OwnerRead: true, AuthRead: true, Written: true, PPWrite: true},
			AuthPolicy: tpm2.TPM2BDigest{Buffer: []byte{9, 9}},
			DataSize:   1234,
		}
		b := tpm2.Marshal(tpm2.New2B(nv))
		b = append(b, 0, 2, 7, 7) // name
		pub, name, err := NVReadPublic(&recorder{rsp: response(false, nil, b)}, 0x01C00002)
		require.NoError(t, err)
		require.Equal(t, &NVPublic{Index: 0x01C00002, NameAlg: AlgSHA256, Attributes: NVOwnerRead | NVAuthRead | NVWritten | 1, AuthPolicy: []byte{9, 9}, DataSize: 1234}, pub)
		require.Equal(t, []byte{7, 7}, name)
	})
	t.Run("create primary", func(t *testing.T) {
		tpl := ECCEKTemplate()
		tpl.X[0], tpl.Y[31] = 5, 6
		b := append(append([]byte{}, tpm2.Marshal(tpm2.New2B(mustGoTPM(t, tpl.Marshal())))...), 0, 0, 0, 0, 0, 0) // the rest, unread
		h, pub, err := CreatePrimary(&recorder{rsp: response(true, []uint32{0x80000000}, b)}, RHEndorsement, &tpl)
		require.NoError(t, err)
		require.Equal(t, Handle(0x80000000), h)
		require.Equal(t, &tpl, pub)
	})
	t.Run("error code", func(t *testing.T) {
		_, err := ReadPublic(&recorder{rsp: []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x8b}}, 0x81010001)
		require.ErrorIs(t, err, RCHandle)
		require.EqualError(t, err, "TPM_RC_HANDLE (handle 1): no such object or NV index")
	})
	t.Run("short header", func(t *testing.T) {
		_, err := ReadPublic(&recorder{rsp: []byte{0x80, 0x01, 0}}, 0x81010001)
		require.EqualError(t, err, "unmarshalling TPM response: truncated")
	})
	t.Run("transport error", func(t *testing.T) {
		_, err := ReadPublic(failingTPM{}, 0x81010001)
		require.EqualError(t, err, "no TPM here")
	})
}

type failingTPM struct{}

func (failingTPM) Send([]byte) ([]byte, error) { return nil, errors.New("no TPM here") }

func mustGoTPM(t testing.TB, b []byte) tpm2.TPMTPublic {
	t.Helper()
	p, err := tpm2.Unmarshal[tpm2.TPMTPublic](b)
	require.NoError(t, err)
	return *p
}

// publics are TPMT_PUBLIC encodings of every object type and of the
// schemes and symmetric definitions go-tpm knows.
func publics() [][]byte {
	rsa, ecc := tpm2.RSAEKTemplate, tpm2.ECCEKTemplate
	out := [][]byte{tpm2.Marshal(&rsa), tpm2.Marshal(&ecc), tpm2.Marshal(&tpm2.RSASRKTemplate), tpm2.Marshal(&tpm2.ECCSRKTemplate)}
	signing := tpm2.TPMTPublic{
		Type:             tpm2.TPMAlgECC,
		NameAlg:          tpm2.TPMAlgSHA384,
		ObjectAttributes: tpm2.TPMAObject{SignEncrypt: true, FixedTPM: true, UserWithAuth: true},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
			Scheme:  tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgECDAA, Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDAA, &tpm2.TPMSSchemeECDAA{HashAlg: tpm2.TPMAlgSHA256, Count: 7})},
			CurveID: tpm2.TPMECCNistP384,
			KDF:     tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgKDF2, Details: tpm2.NewTPMUKDFScheme(tpm2.TPMAlgKDF2, &tpm2.TPMSKDFSchemeKDF2{HashAlg: tpm2.TPMAlgSHA256})},
		}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{X: tpm2.TPM2BECCParameter{Buffer: []byte{1}}, Y: tpm2.TPM2BECCParameter{Buffer: []byte{2}}}),
	}
	rsaPSS := tpm2.TPMTPublic{
		Type:    tpm2.TPMAlgRSA,
		NameAlg: tpm2.TPMAlgSHA256,
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
			Scheme:   tpm2.TPMTRSAScheme{Scheme: tpm2.TPMAlgRSAPSS, Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgRSAPSS, &tpm2.TPMSSigSchemeRSAPSS{HashAlg: tpm2.TPMAlgSHA256})},
			KeyBits:  3072,
			Exponent: 3,
		}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{Buffer: []byte{0xc1}}),
	}
	rsaES := rsaPSS
	rsaES.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
		Scheme:  tpm2.TPMTRSAScheme{Scheme: tpm2.TPMAlgRSAES, Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgRSAES, &tpm2.TPMSEncSchemeRSAES{})},
		KeyBits: 2048,
	})
	hmac := tpm2.TPMTPublic{
		Type:    tpm2.TPMAlgKeyedHash,
		NameAlg: tpm2.TPMAlgSHA256,
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{
			Scheme: tpm2.TPMTKeyedHashScheme{Scheme: tpm2.TPMAlgHMAC, Details: tpm2.NewTPMUSchemeKeyedHash(tpm2.TPMAlgHMAC, &tpm2.TPMSSchemeHMAC{HashAlg: tpm2.TPMAlgSHA256})},
		}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgKeyedHash, &tpm2.TPM2BDigest{Buffer: []byte{4, 5}}),
	}
	xor := hmac
	xor.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{
		Scheme: tpm2.TPMTKeyedHashScheme{Scheme: tpm2.TPMAlgXOR, Details: tpm2.NewTPMUSchemeKeyedHash(tpm2.TPMAlgXOR, &tpm2.TPMSSchemeXOR{HashAlg: tpm2.TPMAlgSHA256, KDF: tpm2.TPMAlgKDF1SP800108})},
	})
	sealed := hmac
	sealed.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{})
	sym := tpm2.TPMTPublic{
		Type:    tpm2.TPMAlgSymCipher,
		NameAlg: tpm2.TPMAlgSHA256,
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgSymCipher, &tpm2.TPMSSymCipherParms{
			Sym: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgAES, KeyBits: tpm2.NewTPMUSymKeyBits(tpm2.TPMAlgAES, tpm2.TPMKeyBits(256)), Mode: tpm2.NewTPMUSymMode(tpm2.TPMAlgAES, tpm2.TPMAlgCFB)},
		}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgSymCipher, &tpm2.TPM2BDigest{Buffer: []byte{6}}),
	}
	for _, p := range []tpm2.TPMTPublic{signing, rsaPSS, rsaES, hmac, xor, sealed, sym} {
		out = append(out, tpm2.Marshal(&p))
	}
	return out
}

func TestPublicMatchesGoTPM(t *testing.T) {
	for _, b := range publics() {
		p, err := UnmarshalPublic(b)
		require.NoError(t, err)
		require.Equal(t, b, p.Marshal())
		// Bytes after the structure, as in an oversized NV index, are ignored.
		p2, err := UnmarshalPublic(append(append([]byte{}, b...), 0xff, 0xff))
		require.NoError(t, err)
		require.Equal(t, p, p2)
	}
	rsa := mustGoTPM(t, tpm2.Marshal(&tpm2.RSAEKTemplate))
	p, err := UnmarshalPublic(tpm2.Marshal(&rsa))
	require.NoError(t, err)
	require.Equal(t, AlgRSA, p.Type)
	require.EqualValues(t, 2048, p.KeyBits)
	require.Equal(t, AttrFixedTPM|AttrFixedParent|AttrSensitiveDataOrigin|AttrAdminWithPolicy|AttrRestricted|AttrDecrypt, p.Attributes)

	_, err = UnmarshalPublic([]byte{0x00, 0x01, 0x00})
	require.EqualError(t, err, "TPMT_PUBLIC: truncated")
	_, err = UnmarshalPublic([]byte{0x00, 0x02, 0x00, 0x0b, 0, 0, 0, 0, 0, 0})
	require.EqualError(t, err, "TPMT_PUBLIC: unsupported object type 0x0002")
}

// FuzzUnmarshalPublic holds the TPMT_PUBLIC decoder to go-tpm's: what
// go-tpm reads, this package reads too and encodes back to the same bytes,
// and what this package reads encodes back to the bytes it read.
//
// Two of go-tpm's leniencies are not copied: it reads a TPM2B that would
// start past the end of the input as empty, and it takes TPM_ALG_NULL for
// an object type. Neither comes from a TPM.
func FuzzUnmarshalPublic(f *testing.F) {
	for _, b := range publics() {
		f.Add(b)
	}
	f.Add([]byte("\x00\x10000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ours, err := UnmarshalPublic(b)
		theirs, gerr := tpm2.Unmarshal[tpm2.TPMTPublic](b)
		if gerr == nil && theirs.Type != tpm2.TPMAlgNull && bytes.HasPrefix(b, tpm2.Marshal(theirs)) {
			if err != nil {
				t.Fatalf("go-tpm reads it, this package fails: %v", err)
			}
			if want := tpm2.Marshal(theirs); string(ours.Marshal()) != string(want) {
				t.Fatalf("encodings differ:\n%x\n%x", ours.Marshal(), want)
			}
		}
		if err != nil {
			return
		}
		m := ours.Marshal()
		if len(m) > len(b) || string(m) != string(b[:len(m)]) {
			t.Fatalf("read %x, encodes as %x", b, m)
		}
	})
}
