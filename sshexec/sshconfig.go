package sshexec

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SSHConfig is the subset of OpenSSH ssh_config(5) that orch honours: Host
// blocks with patterns (*, ? and !negation) and the keywords HostName
// (with %h), User, Port, IdentityFile, ProxyJump, ConnectTimeout and
// StrictHostKeyChecking. Other keywords are kept (see Unsupported) but
// have no effect; Match and Include are refused. As in OpenSSH, the first
// value found for a keyword wins.
type SSHConfig struct {
	Blocks []HostBlock
}

// HostBlock is one Host section. Patterns is nil for the options before
// the first Host line, which apply to every host.
type HostBlock struct {
	Patterns []string
	Options  []ConfigOption
}

// ConfigOption is one keyword line; Key is lower case.
type ConfigOption struct {
	Key   string
	Value string
	Line  int
}

// canonical spellings of the supported keywords.
var sshConfigKeys = map[string]string{
	"hostname": "HostName", "user": "User", "port": "Port", "identityfile": "IdentityFile",
	"proxyjump": "ProxyJump", "connecttimeout": "ConnectTimeout", "stricthostkeychecking": "StrictHostKeyChecking",
}

// ParseSSHConfig parses text. It checks each supported value (Port in
// 1..65535, ConnectTimeout in seconds, StrictHostKeyChecking one of
// yes/no/ask/accept-new/off, one ProxyJump hop); use Validate for orch's
// policy on host key checking.
func ParseSSHConfig(text string) (*SSHConfig, error) {
	cfg := &SSHConfig{Blocks: []HostBlock{{}}}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		bad := func(format string, a ...any) (*SSHConfig, error) {
			return nil, fmt.Errorf("ssh_config line %d: %s: %w", n, fmt.Sprintf(format, a...), ErrInvalidTarget)
		}
		if strings.IndexByte(line, 0) >= 0 {
			return bad("NUL byte")
		}
		i := strings.IndexAny(line, " \t=")
		if i < 0 {
			return bad("keyword %q has no value", line)
		}
		if i == 0 {
			return bad("missing keyword")
		}
		kw := strings.ToLower(line[:i])
		rest := strings.TrimLeft(line[i:], " \t")
		if strings.HasPrefix(rest, "=") {
			rest = strings.TrimLeft(rest[1:], " \t")
		}
		args, err := splitConfigArgs(rest)
		if err != nil {
			return bad("%v", err)
		}
		if len(args) == 0 {
			return bad("%s has no value", line[:i])
		}
		switch kw {
		case "host":
			for _, a := range args {
				if a == "" || a == "!" {
					return bad("empty Host pattern")
				}
			}
			cfg.Blocks = append(cfg.Blocks, HostBlock{Patterns: args})
			continue
		case "match", "include":
			return bad("%s is not supported (orch evaluates Host blocks only)", line[:i])
		}
		val := args[0]
		if _, ok := sshConfigKeys[kw]; ok {
			if len(args) != 1 {
				return bad("%s takes one value, got %d", sshConfigKeys[kw], len(args))
			}
			if err := checkConfigValue(kw, val); err != nil {
				return bad("%v", err)
			}
		} else {
			val = strings.Join(args, " ")
		}
		b := &cfg.Blocks[len(cfg.Blocks)-1]
		b.Options = append(b.Options, ConfigOption{Key: kw, Value: val, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ssh_config: %w: %w", ErrInvalidTarget, err)
	}
	if len(cfg.Blocks[0].Options) == 0 {
		cfg.Blocks = cfg.Blocks[1:]
	}
	return cfg, nil
}

func checkConfigValue(kw, v string) error {
	switch kw {
	case "port":
		if p, err := strconv.Atoi(v); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("Port %q: not a port number", v)
		}
	case "connecttimeout":
		if s, err := strconv.Atoi(v); err != nil || s < 0 || s > 86400 {
			return fmt.Errorf("ConnectTimeout %q: not a number of seconds", v)
		}
	case "stricthostkeychecking":
		switch strings.ToLower(v) {
		case "yes", "no", "ask", "accept-new", "off":
		default:
			return fmt.Errorf("StrictHostKeyChecking %q: want yes, accept-new, no, off or ask", v)
		}
	case "proxyjump":
		if strings.ToLower(v) != "none" {
			if _, _, _, err := ParseProxyJump(v); err != nil {
				return err
			}
		}
	case "user":
		if strings.ContainsAny(v, " \t'\"\\$`;&|<>") || v == "" {
			return fmt.Errorf("User %q: invalid user name", v)
		}
	case "hostname", "identityfile":
		if v == "" {
			return fmt.Errorf("%s: empty value", sshConfigKeys[kw])
		}
	}
	return nil
}

// splitConfigArgs splits like OpenSSH's argv_split: whitespace separates,
// "..." and '...' quote, a backslash escapes a quote, a backslash or (outside
// quotes) a space, and an unquoted # starting a word ends the line.
func splitConfigArgs(s string) ([]string, error) {
	var args []string
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) || s[i] == '#' {
			break
		}
		var b strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				n := s[i+1]
				if n == '\'' || n == '"' || n == '\\' || (quote == 0 && n == ' ') {
					b.WriteByte(n)
					i++
					continue
				}
			}
			if quote == 0 && (c == ' ' || c == '\t') {
				break
			}
			if quote == 0 && (c == '"' || c == '\'') {
				quote = c
				continue
			}
			if quote != 0 && c == quote {
				quote = 0
				continue
			}
			b.WriteByte(c)
		}
		if quote != 0 {
			return nil, fmt.Errorf("unterminated quote")
		}
		args = append(args, b.String())
	}
	return args, nil
}

// String renders the config in a form ParseSSHConfig reads back to the
// same blocks and options.
func (c *SSHConfig) String() string {
	var b strings.Builder
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	for _, blk := range c.Blocks {
		indent := ""
		if blk.Patterns != nil {
			b.WriteString("Host")
			for _, p := range blk.Patterns {
				b.WriteString(" " + q(p))
			}
			b.WriteString("\n")
			indent = "  "
		}
		for _, o := range blk.Options {
			key := sshConfigKeys[o.Key]
			if key == "" {
				key = o.Key
			}
			b.WriteString(indent + key + " " + q(o.Value) + "\n")
		}
	}
	return b.String()
}

// Unsupported lists the keywords present but ignored, as "line N: key".
func (c *SSHConfig) Unsupported() []string {
	var out []string
	for _, b := range c.Blocks {
		for _, o := range b.Options {
			if _, ok := sshConfigKeys[o.Key]; !ok {
				out = append(out, fmt.Sprintf("line %d: %s", o.Line, o.Key))
			}
		}
	}
	return out
}

// Validate applies cephadm's and orch's rules: StrictHostKeyChecking must
// be set (cephadm refuses a config without it) and must not be "ask"
// (there is no one to ask); orch also refuses "no"/"off", because it never
// disables host key checking.
func (c *SSHConfig) Validate() error {
	found := false
	for _, b := range c.Blocks {
		for _, o := range b.Options {
			if o.Key != "stricthostkeychecking" {
				continue
			}
			found = true
			switch strings.ToLower(o.Value) {
			case "ask":
				return fmt.Errorf("ssh_config line %d: StrictHostKeyChecking ask: orch runs unattended and cannot ask; use yes, or accept-new to trust a new host's key on first use: %w", o.Line, ErrInvalidTarget)
			case "no", "off":
				return fmt.Errorf("ssh_config line %d: StrictHostKeyChecking %s: orch never disables host key checking; use yes, or accept-new to trust a new host's key on first use (orch host add pins it): %w", o.Line, o.Value, ErrInvalidTarget)
			}
		}
	}
	if !found {
		return fmt.Errorf("ssh_config: StrictHostKeyChecking is not set (add \"StrictHostKeyChecking yes\" or \"accept-new\"): %w", ErrInvalidTarget)
	}
	return nil
}

// HostSettings are the values the config gives one host.
type HostSettings struct {
	HostName              string
	User                  string
	Port                  int
	IdentityFiles         []string
	ProxyJump             string
	ConnectTimeout        time.Duration
	StrictHostKeyChecking string
}

// Resolve returns the settings for host: blocks are scanned in order, a
// block applies when one of its patterns matches host and none of its
// negated patterns does, and the first value of each keyword wins
// (IdentityFile accumulates).
func (c *SSHConfig) Resolve(host string) HostSettings {
	var s HostSettings
	set := map[string]bool{}
	for _, b := range c.Blocks {
		if b.Patterns != nil && !matchHostPatterns(b.Patterns, host) {
			continue
		}
		for _, o := range b.Options {
			if o.Key == "identityfile" {
				s.IdentityFiles = append(s.IdentityFiles, o.Value)
				continue
			}
			if set[o.Key] {
				continue
			}
			set[o.Key] = true
			switch o.Key {
			case "hostname":
				s.HostName = strings.NewReplacer("%h", host, "%%", "%").Replace(o.Value)
			case "user":
				s.User = o.Value
			case "port":
				s.Port, _ = strconv.Atoi(o.Value)
			case "proxyjump":
				if strings.ToLower(o.Value) != "none" {
					s.ProxyJump = o.Value
				}
			case "connecttimeout":
				n, _ := strconv.Atoi(o.Value)
				s.ConnectTimeout = time.Duration(n) * time.Second
			case "stricthostkeychecking":
				s.StrictHostKeyChecking = strings.ToLower(o.Value)
			}
		}
	}
	return s
}

// Apply sets t's Addr, User, Port, ConnectTimeout and ProxyJump from s
// where s has them. A bastion from ProxyJump keeps the host key settings
// of t.ProxyJump, or else uses t.KnownHostsFile. IdentityFiles are left to
// the caller, which owns key material.
func (s HostSettings) Apply(t Target) (Target, error) {
	if s.HostName != "" {
		t.Addr = s.HostName
	}
	if s.User != "" {
		t.User = s.User
	}
	if s.Port != 0 {
		t.Port = s.Port
	}
	if s.ConnectTimeout > 0 {
		t.ConnectTimeout = s.ConnectTimeout
	}
	if s.ProxyJump != "" {
		u, h, p, err := ParseProxyJump(s.ProxyJump)
		if err != nil {
			return t, fmt.Errorf("%s: %w", t.Name, err)
		}
		j := Jump{KnownHostsFile: t.KnownHostsFile}
		if t.ProxyJump != nil {
			j = *t.ProxyJump
		}
		j.User, j.Addr, j.Port = u, h, p
		t.ProxyJump = &j
	}
	return t, nil
}

// matchHostPatterns reports whether host matches the pattern list.
func matchHostPatterns(patterns []string, host string) bool {
	host = strings.ToLower(host)
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if globMatch(strings.ToLower(p), host) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

// globMatch matches * (any run) and ? (one byte), iteratively.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
