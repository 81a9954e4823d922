package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// MinPodmanVersion is the oldest podman cephadm accepts.
var MinPodmanVersion = [3]int{2, 0, 2}

// TimeSyncUnits are the systemd units cephadm accepts as time
// synchronisation, in the order it checks them.
var TimeSyncUnits = []string{
	"chrony.service", "chronyd.service", "systemd-timesyncd.service",
	"ntpd.service", "ntp.service", "ntpsec.service", "openntpd.service", "timemaster.service",
}

// timeSyncDaemons are the process names (as in /proc/PID/comm, which the
// kernel truncates to 15 bytes) of the same daemons, for hosts without
// systemd as PID 1.
var timeSyncDaemons = map[string]bool{
	"chronyd": true, "ntpd": true, "systemd-timesyn": true, "timemaster": true, "openntpd": true,
}

// CheckHostOptions parameterises CheckHost.
type CheckHostOptions struct {
	// ExpectHostname, when set, must equal the host's name (case-insensitive).
	ExpectHostname string
	// Strict makes a missing systemctl, lvcreate or time synchronisation an
	// error, as cephadm does; otherwise they are reported as warnings so
	// that hosts without systemd (containers, test hosts) can be managed.
	Strict bool
}

// ProgramCheck reports whether a program is installed.
type ProgramCheck struct {
	Present bool   `json:"present"`
	Path    string `json:"path,omitempty"`
}

// EngineCheck reports the container engine.
type EngineCheck struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
	Working bool   `json:"working"`
	Path    string `json:"path,omitempty"`
	Version string `json:"version,omitempty"`
}

// TimeSyncCheck reports time synchronisation.
type TimeSyncCheck struct {
	Active bool `json:"active"`
	// Source is the unit (systemd hosts) or process (others) found active.
	Source string `json:"source,omitempty"`
	// Method is "systemd" or "process".
	Method string `json:"method"`
}

// HostnameCheck reports the hostname comparison.
type HostnameCheck struct {
	Hostname string `json:"hostname"`
	Expected string `json:"expected,omitempty"`
	Matches  bool   `json:"matches"`
}

// CheckHostResult is the JSON answer of `orch agent check-host`.
type CheckHostResult struct {
	OK              bool          `json:"ok"`
	ContainerEngine EngineCheck   `json:"container_engine"`
	Systemctl       ProgramCheck  `json:"systemctl"`
	Lvcreate        ProgramCheck  `json:"lvcreate"`
	TimeSync        TimeSyncCheck `json:"time_sync"`
	Hostname        HostnameCheck `json:"hostname"`
	// Errors are the problems that make the host unfit, in cephadm's words.
	Errors []string `json:"errors"`
	// Warnings are problems reported but tolerated (see Strict).
	Warnings []string `json:"warnings"`
}

// CheckHostError is returned by CheckHost when the host fails; the result is
// still returned alongside it.
type CheckHostError struct{ Problems []string }

func (e *CheckHostError) Error() string {
	return "host check failed: " + strings.Join(e.Problems, "; ")
}

// CheckHost checks the host's fitness as `cephadm check-host` does: a
// working podman, systemctl, lvcreate, an active time synchronisation
// service and the expected hostname. It returns the full result and, when
// anything is wrong, a *CheckHostError naming exactly what.
func (h *Host) CheckHost(ctx context.Context, opts CheckHostOptions) (*CheckHostResult, error) {
	res := &CheckHostResult{Errors: []string{}, Warnings: []string{}}
	soft := func(msg string) {
		if opts.Strict {
			res.Errors = append(res.Errors, msg)
		} else {
			res.Warnings = append(res.Warnings, msg)
		}
	}

	res.ContainerEngine = h.checkPodman(ctx)
	switch {
	case !res.ContainerEngine.Present:
		res.Errors = append(res.Errors, "No container engine binary found (podman). Try run `apt/dnf/yum/zypper install podman`")
	case !res.ContainerEngine.Working:
		res.Errors = append(res.Errors, fmt.Sprintf("podman (%s) is not working: %s", res.ContainerEngine.Path, res.ContainerEngine.Version))
		res.ContainerEngine.Version = ""
	case !versionAtLeast(res.ContainerEngine.Version, MinPodmanVersion):
		res.Errors = append(res.Errors, fmt.Sprintf("podman version %d.%d.%d or later is required", MinPodmanVersion[0], MinPodmanVersion[1], MinPodmanVersion[2]))
	}

	for _, p := range []struct {
		name string
		dst  *ProgramCheck
	}{{"systemctl", &res.Systemctl}, {"lvcreate", &res.Lvcreate}} {
		if path, err := h.LookPath(p.name); err == nil {
			*p.dst = ProgramCheck{Present: true, Path: path}
		} else {
			soft(p.name + " binary does not appear to be installed")
		}
	}

	res.TimeSync = h.checkTimeSync(ctx, res.Systemctl.Present)
	if !res.TimeSync.Active {
		soft("No time synchronization is active")
	}

	u, err := h.uname()
	if err != nil {
		return nil, fmt.Errorf("check-host: %w", err)
	}
	res.Hostname = HostnameCheck{Hostname: u.Nodename, Expected: opts.ExpectHostname, Matches: true}
	if opts.ExpectHostname != "" && !strings.EqualFold(u.Nodename, opts.ExpectHostname) {
		res.Hostname.Matches = false
		res.Errors = append(res.Errors, fmt.Sprintf("hostname %q does not match expected hostname %q", u.Nodename, opts.ExpectHostname))
	}

	res.OK = len(res.Errors) == 0
	if !res.OK {
		return res, &CheckHostError{Problems: append([]string(nil), res.Errors...)}
	}
	return res, nil
}

// checkPodman finds podman and asks it for its version; a podman that
// cannot answer is present but not working (Version then holds the reason).
func (h *Host) checkPodman(ctx context.Context) EngineCheck {
	ec := EngineCheck{Name: "podman"}
	path, err := h.LookPath("podman")
	if err != nil {
		return ec
	}
	ec.Present, ec.Path = true, path
	out, err := h.runner().Run(ctx, []string{path, "version", "--format", "{{.Client.Version}}"})
	if err != nil {
		ec.Version = err.Error()
		return ec
	}
	ec.Working = true
	ec.Version = strings.TrimSpace(string(out))
	return ec
}

// versionAtLeast compares a dotted version ("4.3.1", "4.9.0-dev") with min.
func versionAtLeast(v string, min [3]int) bool {
	parts := strings.SplitN(v, ".", 3)
	for i := 0; i < 3; i++ {
		n := 0
		if i < len(parts) {
			digits := parts[i]
			if j := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
				digits = digits[:j]
			}
			var err error
			if n, err = strconv.Atoi(digits); err != nil {
				return false
			}
		}
		if n != min[i] {
			return n > min[i]
		}
	}
	return true
}

// checkTimeSync asks systemd when it runs the host (PID 1), else looks for a
// time synchronisation daemon among the running processes.
func (h *Host) checkTimeSync(ctx context.Context, haveSystemctl bool) TimeSyncCheck {
	if haveSystemctl && h.exists("/run/systemd/system") {
		tc := TimeSyncCheck{Method: "systemd"}
		for _, unit := range TimeSyncUnits {
			out, err := h.run(ctx, "systemctl", "is-active", unit)
			if err == nil && strings.TrimSpace(string(out)) == "active" {
				tc.Active, tc.Source = true, unit
				return tc
			}
		}
		return tc
	}
	tc := TimeSyncCheck{Method: "process"}
	for _, pid := range h.listDir("/proc") {
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		comm, ok := h.readTrim("/proc/" + pid + "/comm")
		if ok && timeSyncDaemons[comm] {
			tc.Active, tc.Source = true, comm
			return tc
		}
	}
	return tc
}
