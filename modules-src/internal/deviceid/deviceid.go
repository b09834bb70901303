// Package deviceid checks device IDs against the format each device type
// uses, so a malformed ID fails before it is registered.
package deviceid

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// TPMPrefix starts every TPM device ID: the EK URI of TCG's EK profile.
const TPMPrefix = "urn:ek:sha256:"

var (
	awsID   = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	azureID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	gcpID   = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Types lists the device types, as the API names them.
var Types = []string{"aws-vm", "azure-vm", "gcp-vm", "tpm"}

// CheckTPM reports whether id is a well-formed TPM EK URI: the prefix and
// standard, padded base64 of exactly 32 bytes (a SHA-256).
func CheckTPM(id string) error {
	enc, ok := strings.CutPrefix(id, TPMPrefix)
	if !ok && len(id) >= len(TPMPrefix) && strings.EqualFold(id[:len(TPMPrefix)], TPMPrefix) {
		return fmt.Errorf("%q is not a TPM EK URI: write its prefix in lower case, %s", id, TPMPrefix)
	}
	if !ok {
		return fmt.Errorf("%q is not a TPM EK URI: it must start with %s", id, TPMPrefix)
	}
	sum, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || len(sum) != 32 {
		return fmt.Errorf("%q is not a TPM EK URI: after %s it must hold the standard base64 (with padding) of a 32-byte SHA-256, 44 characters", id, TPMPrefix)
	}
	return nil
}

// Check validates id for a device type; with an empty type only IDs that
// claim to be TPM URIs are checked.
func Check(deviceType, id string) error {
	if id == "" {
		return fmt.Errorf("the instance ID is empty")
	}
	switch deviceType {
	case "tpm":
		return CheckTPM(id)
	case "aws-vm":
		if !awsID.MatchString(id) {
			return fmt.Errorf("%q is not an EC2 instance ID (i- and 8 or 17 lowercase hex digits)", id)
		}
	case "azure-vm":
		if !azureID.MatchString(id) {
			return fmt.Errorf("%q is not an Azure managed identity principal object ID (a UUID)", id)
		}
	case "gcp-vm":
		if !gcpID.MatchString(id) {
			return fmt.Errorf("%q is not a Compute Engine instance ID (decimal digits)", id)
		}
	case "":
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(id)), "urn:ek:") {
			return CheckTPM(id)
		}
	default:
		return fmt.Errorf("unknown device type %q; accepted: %s", deviceType, strings.Join(Types, ", "))
	}
	return nil
}
