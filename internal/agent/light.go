package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// LED types, as `ceph orch device light` names them.
const (
	LEDIdent = "ident"
	LEDFault = "fault"
)

// ledctlUnsupported is ledctl's exit status for "device not supported"
// (ledmon's STATUS_NOT_SUPPORTED), seen for loop and virtio disks.
const ledctlUnsupported = 33

// LightRequest asks for one LED change.
type LightRequest struct {
	// Device is a block device path (/dev/sdb) or kernel name (sdb).
	Device string
	// Type is LEDIdent or LEDFault.
	Type string
	On   bool
}

// LightResult is the JSON answer of `orch agent light`.
type LightResult struct {
	Device string   `json:"device"`
	Type   string   `json:"type"`
	On     bool     `json:"on"`
	Tool   string   `json:"tool"`
	Cmd    []string `json:"cmd"`
}

// LightError is a failed LED change: the tool ran and refused. It wraps
// ErrNotSupported when the hardware cannot blink this device.
type LightError struct {
	Device string
	Tool   string
	Err    error // *ExitError from the tool
	kind   error
}

func (e *LightError) Error() string {
	if errors.Is(e.kind, ErrNotSupported) {
		return fmt.Sprintf("%s: LED control is not supported for this device (no enclosure or LED-capable controller; %s says: %v)", e.Device, e.Tool, e.Err)
	}
	return fmt.Sprintf("%s: %s failed: %v", e.Device, e.Tool, e.Err)
}

// Unwrap exposes both the classification and the tool's error.
func (e *LightError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.Err}
	}
	return []error{e.kind, e.Err}
}

// Light turns a disk's identification or fault LED on or off with
// libstoragemgmt's lsmcli when the host has it (cephadm's choice), else
// with ledmon's ledctl.
func (h *Host) Light(ctx context.Context, req LightRequest) (*LightResult, error) {
	if req.Type != LEDIdent && req.Type != LEDFault {
		return nil, fmt.Errorf("light: LED type %q: want %s or %s: %w", req.Type, LEDIdent, LEDFault, ErrInvalidArgument)
	}
	dev := req.Device
	if !strings.HasPrefix(dev, "/") {
		dev = "/dev/" + dev
	}
	if !h.exists(dev) {
		return nil, fmt.Errorf("light: device %s does not exist: %w", dev, ErrInvalidArgument)
	}
	res := &LightResult{Device: dev, Type: req.Type, On: req.On}
	state := "off"
	if req.On {
		state = "on"
	}
	if _, err := h.LookPath("lsmcli"); err == nil {
		res.Tool = "lsmcli"
		res.Cmd = []string{"lsmcli", "local-disk-" + req.Type + "-led-" + state, "--path", dev}
	} else if _, err := h.LookPath("ledctl"); err == nil {
		res.Tool = "ledctl"
		pattern := map[string]string{
			LEDIdent + "on": "locate", LEDIdent + "off": "locate_off",
			LEDFault + "on": "failure", LEDFault + "off": "off",
		}[req.Type+state]
		res.Cmd = []string{"ledctl", pattern + "=" + dev}
	} else {
		return nil, fmt.Errorf("light: %s: neither lsmcli (libstoragemgmt) nor ledctl (ledmon) is installed: %w", dev, ErrToolMissing)
	}
	if _, err := h.run(ctx, res.Cmd...); err != nil {
		le := &LightError{Device: dev, Tool: res.Tool, Err: err}
		var ee *ExitError
		if errors.As(err, &ee) && unsupported(res.Tool, ee) {
			le.kind = ErrNotSupported
		}
		return nil, le
	}
	return res, nil
}

// unsupported recognises each tool's "this device has no LEDs I can drive".
func unsupported(tool string, ee *ExitError) bool {
	msg := strings.ToLower(ee.Stderr)
	switch tool {
	case "ledctl":
		return ee.Code == ledctlUnsupported || strings.Contains(msg, "not supported")
	case "lsmcli":
		return strings.Contains(msg, "no_support") || strings.Contains(msg, "not supported")
	}
	return false
}
