package agent

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLight(t *testing.T) {
	tests := []struct {
		name     string
		programs []string
		req      LightRequest
		stubs    func(r *fakeRunner)
		wantCmd  []string
		wantErr  error
		errText  string
	}{
		{
			name: "ledctl ident on", programs: []string{"ledctl"},
			req:     LightRequest{Device: "sdb", Type: LEDIdent, On: true},
			stubs:   func(r *fakeRunner) { r.on("", nil, "ledctl", "locate=/dev/sdb") },
			wantCmd: []string{"ledctl", "locate=/dev/sdb"},
		},
		{
			name: "ledctl ident off", programs: []string{"ledctl"},
			req:     LightRequest{Device: "/dev/sdb", Type: LEDIdent},
			stubs:   func(r *fakeRunner) { r.on("", nil, "ledctl", "locate_off=/dev/sdb") },
			wantCmd: []string{"ledctl", "locate_off=/dev/sdb"},
		},
		{
			name: "ledctl fault on and off", programs: []string{"ledctl"},
			req:     LightRequest{Device: "sdb", Type: LEDFault, On: true},
			stubs:   func(r *fakeRunner) { r.on("", nil, "ledctl", "failure=/dev/sdb") },
			wantCmd: []string{"ledctl", "failure=/dev/sdb"},
		},
		{
			name: "ledctl fault off", programs: []string{"ledctl"},
			req:     LightRequest{Device: "sdb", Type: LEDFault},
			stubs:   func(r *fakeRunner) { r.on("", nil, "ledctl", "off=/dev/sdb") },
			wantCmd: []string{"ledctl", "off=/dev/sdb"},
		},
		{
			name: "lsmcli preferred", programs: []string{"ledctl", "lsmcli"},
			req:     LightRequest{Device: "sdb", Type: LEDFault, On: true},
			stubs:   func(r *fakeRunner) { r.on("", nil, "lsmcli", "local-disk-fault-led-on", "--path", "/dev/sdb") },
			wantCmd: []string{"lsmcli", "local-disk-fault-led-on", "--path", "/dev/sdb"},
		},
		{
			name: "ledctl on a loop device", programs: []string{"ledctl"},
			req: LightRequest{Device: "loop0", Type: LEDIdent, On: true},
			stubs: func(r *fakeRunner) {
				r.on("", exitErr(33, "ledctl: /dev/loop0: device not supported\nledctl: IBPI LOCATE: missing block device(s)... pattern ignored.\n", "ledctl", "locate=/dev/loop0"),
					"ledctl", "locate=/dev/loop0")
			},
			wantErr: ErrNotSupported,
			errText: "/dev/loop0: LED control is not supported for this device",
		},
		{
			name: "lsmcli without support", programs: []string{"lsmcli"},
			req: LightRequest{Device: "sda", Type: LEDIdent},
			stubs: func(r *fakeRunner) {
				r.on("", exitErr(4, "NO_SUPPORT(153): Not supported by the disk\n", "lsmcli"), "lsmcli", "local-disk-ident-led-off", "--path", "/dev/sda")
			},
			wantErr: ErrNotSupported,
			errText: "lsmcli says",
		},
		{
			name: "tool fails otherwise", programs: []string{"ledctl"},
			req: LightRequest{Device: "sda", Type: LEDIdent, On: true},
			stubs: func(r *fakeRunner) {
				r.on("", exitErr(1, "ledctl: permission denied\n", "ledctl"), "ledctl", "locate=/dev/sda")
			},
			errText: "/dev/sda: ledctl failed",
		},
		{
			name: "no tool", req: LightRequest{Device: "sdb", Type: LEDIdent, On: true},
			wantErr: ErrToolMissing, errText: "neither lsmcli (libstoragemgmt) nor ledctl (ledmon) is installed",
		},
		{
			name: "bad type", programs: []string{"ledctl"}, req: LightRequest{Device: "sdb", Type: "blink"},
			wantErr: ErrInvalidArgument,
		},
		{
			name: "no such device", programs: []string{"ledctl"}, req: LightRequest{Device: "sdz", Type: LEDIdent},
			wantErr: ErrInvalidArgument, errText: "/dev/sdz does not exist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFakeRunner(t)
			if tt.stubs != nil {
				tt.stubs(r)
			}
			res, err := fixtureHost(t, r, tt.programs...).Light(context.Background(), tt.req)
			if tt.wantErr == nil && tt.errText == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(res.Cmd, tt.wantCmd) || res.On != tt.req.On || res.Type != tt.req.Type {
					t.Errorf("result = %+v, want cmd %q", res, tt.wantCmd)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, result %+v", res)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("err = %q, want it to contain %q", err, tt.errText)
			}
		})
	}
}
