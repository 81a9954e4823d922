package orchestrator

import (
	"slices"
	"strings"
	"testing"
)

// testPEM looks like a certificate and key; its body is what must never
// appear in an argv.
const testPEM = "-----BEGIN CERTIFICATE-----\nMIIBtestcertificatebody\n-----END CERTIFICATE-----\n" +
	"-----BEGIN PRIVATE KEY-----\nMIIEsecretkeybody\n-----END PRIVATE KEY-----\n"

func TestRGWFrontends(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		d          daemonSpec
		want       string
	}{
		{"http", `{"service_type":"rgw","service_id":"s"}`,
			daemonSpec{ports: []int{80}}, "beast port=80"},
		{"ssl default port", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true}}`,
			daemonSpec{ports: []int{443}}, "beast ssl_port=443 ssl_certificate=config://rgw/cert/rgw.s"},
		{"ssl no ports", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true}}`,
			daemonSpec{}, "beast ssl_port=443 ssl_certificate=config://rgw/cert/rgw.s"},
		{"ssl port", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true,"rgw_frontend_port":8443}}`,
			daemonSpec{ports: []int{8443}}, "beast ssl_port=8443 ssl_certificate=config://rgw/cert/rgw.s"},
		{"ssl ip", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true}}`,
			daemonSpec{ports: []int{443}, ip: "10.0.0.6"}, "beast ssl_endpoint=10.0.0.6:443 ssl_certificate=config://rgw/cert/rgw.s"},
		{"ssl ipv6", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true}}`,
			daemonSpec{ports: []int{443}, ip: "fd00::6"}, "beast ssl_endpoint=[fd00::6]:443 ssl_certificate=config://rgw/cert/rgw.s"},
		{"civetweb ssl", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true,"rgw_frontend_type":"civetweb"}}`,
			daemonSpec{ports: []int{443}}, "civetweb port=443s ssl_certificate=config://rgw/cert/rgw.s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.svc = testSpecEntry(t, tc.spec)
			f, _ := tc.d.svc.spec.RGW()
			if got := rgwFrontends(f, &tc.d); got != tc.want {
				t.Errorf("rgwFrontends = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRGWCertificateOnStdin(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(testPEM, "\n"), "\n")
	quoted := make([]string, len(lines))
	for i, l := range lines {
		quoted[i] = `"` + l + `"`
	}
	for _, tc := range []struct {
		name, spec string
		want       string // the config-key value; "" for none
	}{
		{"string", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true,"rgw_frontend_ssl_certificate":` +
			strings.ReplaceAll(`"`+testPEM+`"`, "\n", `\n`) + `}}`, testPEM},
		{"list", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true,"rgw_frontend_ssl_certificate":[` +
			strings.Join(quoted, ",") + `]}}`, strings.TrimSuffix(testPEM, "\n")},
		{"ssl without certificate", `{"service_type":"rgw","service_id":"s","spec":{"ssl":true}}`, ""},
		{"certificate without ssl", `{"service_type":"rgw","service_id":"s","spec":{"rgw_frontend_ssl_certificate":"x"}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCephSvcEnv(t)
			var sets []cephFakeCall
			e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
				if i := slices.Index(c.Argv, "config-key"); i > 0 {
					sets = append(sets, c)
					return nil, nil, true
				}
				return nil, nil, false
			})
			p := e.pass(t)
			svc := testSpecEntry(t, tc.spec)
			ds := daemonSpec{svc: svc, daemonType: "rgw", id: "s.h2.abcdef", host: "h2", ports: svc.spec.PortStart()}
			if err := p.deployOne(&ds); err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(sets) != 0 {
					t.Errorf("config-key calls %v", sets)
				}
				return
			}
			if len(sets) != 1 {
				t.Fatalf("config-key calls %v", sets)
			}
			c := sets[0]
			i := slices.Index(c.Argv, "config-key")
			if got := strings.Join(c.Argv[i:], " "); got != "config-key set rgw/cert/rgw.s -i -" {
				t.Errorf("argv tail %q", got)
			}
			if !slices.Contains(c.Argv, "-i") || string(c.Stdin) != tc.want {
				t.Errorf("stdin %q, want the PEM", c.Stdin)
			}
			for _, call := range e.fake.Calls() {
				if line := strings.Join(call.Argv, " "); strings.Contains(line, "secretkeybody") {
					t.Errorf("the private key in an argv: %s", call)
				}
			}
		})
	}
}

func TestRGWPurge(t *testing.T) {
	e := newCephSvcEnv(t)
	var ran []string
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		i := slices.Index(c.Argv, "--connect-timeout")
		if i < 0 {
			return nil, nil, false
		}
		args := c.Argv[i+2:]
		if args[0] == "config-key" || (args[0] == "config" && args[1] == "rm") {
			ran = append(ran, strings.Join(args, " "))
			return nil, nil, true
		}
		return nil, nil, false
	})
	e.r.purgeCephService(t.Context(), "rgw.s")
	e.r.purgeCephService(t.Context(), "crash")
	want := []string{"config rm client.rgw.s rgw_realm", "config rm client.rgw.s rgw_zonegroup",
		"config rm client.rgw.s rgw_zone", "config-key rm rgw/cert/rgw.s"}
	if !slices.Equal(ran, want) {
		t.Errorf("purge ran\n%q\nwant\n%q", ran, want)
	}
}
