package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLoadDocumentsRejectsBadInput(t *testing.T) {
	deep := strings.Repeat("[", 500) + strings.Repeat("]", 500)
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		_ = i
		bomb += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	tests := []struct {
		name, input, want string
	}{
		{"empty input", "", "no service specs found in input"},
		{"only empty documents", "---\n---\n", "no service specs found in input"},
		{"invalid utf-8", "service_type: mgr\nservice_id: \xff\n", "input is not valid UTF-8"},
		{"huge", "service_type: mgr\n" + strings.Repeat("#", MaxInputSize), "input is too large"},
		{"syntax error", "service_type: [mgr\n", "Invalid YAML"},
		{"deep nesting", deep, "nesting deeper"},
		{"alias bomb", bomb + "service_type: mgr\n", "excessive aliasing"},
		{"scalar document", "hello\n", `Service Spec is not an (JSON or YAML) object. got "hello"`},
		{"missing type", "placement: {count: 1}\n", `Spec needs a "service_type" key.`},
		{"unknown type", "service_type: foo\n", "Unknown service type 'foo'"},
		{"type not a string", "service_type: [mgr]\n", "Unknown service type ['mgr']"},
		{"unknown key", "service_type: mgr\nfoo: 1\n", "ServiceSpec: ServiceSpec.__init__() got an unexpected keyword argument 'foo'"},
		{"unknown key rgw", "service_type: rgw\nservice_id: a\nspec:\n  bogus: 1\n", "RGWSpec.__init__() got an unexpected keyword argument 'bogus'"},
		{"id required", "service_type: nfs\n", "Cannot add Service: id required"},
		{"bad id", "service_type: rgw\nservice_id: a/b\n", "Service id contains invalid characters, only [a-zA-Z0-9_.-] allowed"},
		{"mds digit", "service_type: mds\nservice_id: 1fs\n", "MDS service id cannot start with a numeric digit"},
		{"bad network", "service_type: mgr\nnetworks: [foo]\n", "Cannot parse network foo: 'foo' does not appear to be an IPv4 or IPv6 network"},
		{"host bits", "service_type: mgr\nnetworks: 10.0.0.1/8\n", "Cannot parse network 10.0.0.1/8: 10.0.0.1/8 has host bits set"},
		{"networks type", "service_type: mgr\nnetworks: {a: b}\n", "must be a string or list of strings"},
		{"managed config", "service_type: rgw\nservice_id: a\nconfig:\n  rgw_realm: x\n", "Cannot set config option rgw_realm in spec: it is managed by cephadm"},
		{"count string", "service_type: mgr\nplacement:\n  count: '3'\n", "num/count must be an integer value"},
		{"extra arg type", "service_type: mgr\nextra_container_args: [1]\n", "Unknown type for argument: <class 'int'>"},
		{"extra arg object", "service_type: mgr\nextra_container_args: [{split: true}]\n", `ArgumentSpec must have an "argument" field`},
		{"custom config field", "service_type: mgr\ncustom_configs: [{content: x}]\n", `CustomConfig must have "mount_path" field`},
		{"ingress", "service_type: ingress\nservice_id: x\nbackend_service: rgw.x\n", "Cannot add ingress: No frontend_port specified"},
		{"iscsi pool", "service_type: iscsi\nservice_id: x\n", "Cannot add ISCSI: No Pool specified"},
		{"nvmeof pool", "service_type: nvmeof\nservice_id: x\n", "Cannot add NVMEOF: No Pool specified"},
		{"container image", "service_type: container\nservice_id: x\n", "image is required"},
		{"alertmanager port", "service_type: alertmanager\nport: 9094\n", "Port 9094 is reserved"},
		{"osd feature", "service_type: osd\nservice_id: x\nplacement: {host_pattern: '*'}\ndata_devices: {all: true}\nbogus: 1\n", "Failed to validate OSD spec \"x\": Feature `bogus` is not supported"},
		{"osd filter", "service_type: osd\nservice_id: x\nplacement: {host_pattern: '*'}\ndata_devices: {bogus: 1}\n", "Failed to validate OSD spec \"x.data_devices\": Filtering for `bogus` is not supported"},
		{"osd all", "service_type: osd\nservice_id: x\nplacement: {host_pattern: '*'}\ndata_devices: {all: true}\ndb_devices: {all: true}\n", "`all` is only allowed for data_devices"},
		{"osd method", "service_type: osd\nservice_id: x\nplacement: {host_pattern: '*'}\ndata_devices: {all: true}\nmethod: zfs\n", "method must be one of None, lvm, raw"},
		{"osd objectstore", "service_type: osd\nservice_id: x\nplacement: {host_pattern: '*'}\ndata_devices: {all: true}\nobjectstore: filestore\n", "filestore is not supported. Must be one of ('bluestore')"},
		{"osd sizes", "service_type: osd\nservice_id: x\nplacement: {host_pattern: '*'}\ndata_devices: {all: true}\nblock_db_size: 1.5\n", "block_db_size must be of type int or string"},
		{"json array item", `[{"service_type": "mgr"}, 5]`, `Service Spec is not an (JSON or YAML) object. got "5"`},
		{"json big int", `{"service_type": "mgr", "placement": {"count": 99999999999999999999999}}`, "out of range"},
		{"yaml nan", "service_type: mgr\nplacement: {count: .nan}\n", "non-finite"},
		{"host bad labels", "service_type: host\nhostname: h1\nlabels: 124\n", "Labels (124) must be a string or list of strings"},
		{"host int key", "service_type: host\nhostname: h1\nlocation: {1: a}\n", "Location"},
		{"value tag", "service_type: mgr\nconfig: {a: =}\n", "could not determine a constructor"},
		{"unknown tag", "service_type: !!python/name:os.system mgr\n", "could not determine a constructor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := LoadDocuments([]byte(tt.input))
			if err == nil {
				t.Fatalf("LoadDocuments succeeded with %d docs, want error containing %q", len(docs), tt.want)
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("error %v is not ErrInvalidSpec", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestYAML11Scalars(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"yes", true}, {"No", false}, {"ON", true}, {"off", false}, {"y", "y"}, {"n", "n"},
		{"true", true}, {"~", nil}, {"null", nil}, {"", nil},
		{"010", int64(8)}, {"0x1f", int64(31)}, {"0b101", int64(5)}, {"1_000", int64(1000)}, {"-12", int64(-12)},
		{"1:30", int64(90)}, {"1.5", 1.5}, {"1.", 1.0}, {".5", 0.5}, {"1e5", "1e5"}, {"1.0e+5", 100000.0},
		{"2001-12-14", "2001-12-14"}, {"0o17", "0o17"}, {"'yes'", "yes"}, {"\"010\"", "010"}, {"!!str 10", "10"},
		{"!!int '7'", int64(7)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			docs, err := parseYAMLStream([]byte("k: " + tt.in + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := docs[0].(*Map).Get("k")
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%q loaded as %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestLoadDocumentsStreams(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"multi-document with empty ones", "---\nservice_type: mgr\n---\n---\nservice_type: mon\nservice_id: ignored\n", []string{"mgr", "mon"}},
		{"json array", `[{"service_type": "crash"}, {"service_name": "rgw.a.b"}]`, []string{"crash", "rgw.a.b"}},
		{"json object", `{"service_type": "nfs", "service_id": "n", "spec": {"port": 2049}}`, []string{"nfs.n"}},
		{"flow yaml", "{service_type: mgr}\n", []string{"mgr"}},
		{"yaml list document", "- service_type: mgr\n- service_type: crash\n", []string{"mgr", "crash"}},
		{"host and service", "service_type: host\nhostname: node1\nlabels: mon\n---\nservice_type: mon\n", []string{"host.node1", "mon"}},
		{"old style rgw", "service_type: rgw\nrgw_realm: r\nrgw_zone: z\n", []string{"rgw.r.z"}},
		{"old style osd with host_pattern", "service_type: osd\nservice_id: x\nhost_pattern: '*'\ndata_devices:\n  all: true\n", []string{"osd.x"}},
		{"merge keys", "base: &b {count: 2}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := LoadDocuments([]byte(tt.input))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("want an error for a document without service_type")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, d := range docs {
				names = append(names, d.Name())
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Fatalf("names = %v, want %v", names, tt.want)
			}
		})
	}
}

func TestServiceSpecAccessors(t *testing.T) {
	load := func(t *testing.T, y string) *ServiceSpec {
		t.Helper()
		d := loadOne(t, []byte(y))
		return d.Service
	}
	tests := []struct {
		name    string
		yaml    string
		ports   []int
		oneLine string
	}{
		{"mgr", "service_type: mgr\n", []int{}, "<ServiceSpec for service_name=mgr>"},
		{"mon", "service_type: mon\n", []int{}, "<MONSpec for service_name=mon>"},
		{"rgw default", "service_type: rgw\nservice_id: a\n", []int{80}, "<RGWSpec for service_name=rgw.a>"},
		{"rgw ssl", "service_type: rgw\nservice_id: a\nspec: {ssl: true}\n", []int{443}, "<RGWSpec for service_name=rgw.a>"},
		{"rgw port", "service_type: rgw\nservice_id: a\nspec: {ssl: true, rgw_frontend_port: 8080}\n", []int{8080}, "<RGWSpec for service_name=rgw.a>"},
		{"nfs", "service_type: nfs\nservice_id: n\nspec: {port: 2049}\n", []int{2049}, "<NFSServiceSpec for service_name=nfs.n>"},
		{"nfs no port", "service_type: nfs\nservice_id: n\n", []int{}, "<NFSServiceSpec for service_name=nfs.n>"},
		{"iscsi", "service_type: iscsi\nservice_id: i\nspec: {pool: p}\n", []int{5000}, "<IscsiServiceSpec for service_name=iscsi.i>"},
		{"nvmeof", "service_type: nvmeof\nservice_id: i\nspec: {pool: p}\n", []int{5500, 4420, 8009}, "<NvmeofServiceSpec for service_name=nvmeof.i>"},
		{"ingress", "service_type: ingress\nservice_id: rgw.a\nspec: {backend_service: rgw.a, frontend_port: 8080, monitor_port: 8999, virtual_ip: 10.0.0.1/24}\n", []int{8080, 8999}, "<IngressSpec for service_name=ingress.rgw.a>"},
		{"alertmanager", "service_type: alertmanager\n", []int{9093, 9094}, "<AlertManagerSpec for service_name=alertmanager>"},
		{"grafana", "service_type: grafana\n", []int{3000}, "<GrafanaSpec for service_name=grafana>"},
		{"prometheus", "service_type: prometheus\nport: 9999\n", []int{9999}, "<PrometheusSpec for service_name=prometheus>"},
		{"node-exporter", "service_type: node-exporter\n", []int{9100}, "<MonitoringSpec for service_name=node-exporter>"},
		{"snmp", "service_type: snmp-gateway\nspec: {credentials: {snmp_community: public}, snmp_destination: '10.0.0.1:162', snmp_version: V2c}\n", []int{9464}, "<SNMPGatewaySpec for service_name=snmp-gateway>"},
		{"osd", "service_type: osd\nservice_id: x\nplacement: {host_pattern: '*'}\ndata_devices: {all: true}\n", []int{}, "<DriveGroupSpec for service_name=osd.x>"},
		{"mds", "service_type: mds\nservice_id: fs\n", []int{}, "<MDSSpec for service_name=mds.fs>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, tt.yaml)
			if got := s.PortStart(); !reflect.DeepEqual(got, tt.ports) {
				t.Errorf("PortStart = %v, want %v", got, tt.ports)
			}
			if got := s.OneLineStr(); got != tt.oneLine {
				t.Errorf("OneLineStr = %q, want %q", got, tt.oneLine)
			}
		})
	}
	t.Run("ingress view", func(t *testing.T) {
		s := load(t, "service_type: ingress\nservice_id: rgw.a\nspec: {backend_service: rgw.a, frontend_port: 8080, monitor_port: 8999, virtual_ip: 10.0.0.1/24, keepalive_only: true}\n")
		in, ok := s.Ingress()
		if !ok || in.BackendService != "rgw.a" || *in.FrontendPort != 8080 || *in.MonitorPort != 8999 || in.VirtualIP != "10.0.0.1/24" || !in.KeepaliveOnly {
			t.Fatalf("Ingress() = %+v, %v", in, ok)
		}
		if _, ok := s.RGW(); ok {
			t.Fatal("RGW() ok for an ingress spec")
		}
	})
	t.Run("rgw view", func(t *testing.T) {
		s := load(t, "service_type: rgw\nrgw_realm: r\nrgw_zone: z\nrgw_frontend_port: 81\n")
		r, ok := s.RGW()
		if !ok || r.Realm != "r" || r.Zone != "z" || *r.FrontendPort != 81 {
			t.Fatalf("RGW() = %+v, %v", r, ok)
		}
	})
	t.Run("drive group view", func(t *testing.T) {
		s := load(t, "service_type: osd\nservice_id: x\nplacement: {host_pattern: '*'}\nspec:\n  data_devices: {rotational: 1, limit: 2}\n  db_devices: {model: SSD}\n  filter_logic: or\n")
		dg := s.DriveGroup
		if dg == nil || dg.FilterLogic != "OR" || dg.DataDevices.Limit != 2 || *dg.DataDevices.Rotational != true || dg.DBDevices.Model != "SSD" || dg.Objectstore != "bluestore" {
			t.Fatalf("DriveGroup = %+v", dg)
		}
	})
}

func TestNewServiceSpec(t *testing.T) {
	two := 2
	tests := []struct {
		typ, id string
		p       PlacementSpec
		want    string // service name or error text
		wantErr bool
	}{
		{"mgr", "", PlacementSpec{Count: &two}, "mgr", false},
		{"mds", "fs1", PlacementSpec{}, "mds.fs1", false},
		{"mon", "foo", PlacementSpec{}, "Service of type 'mon' should not contain a service id", true},
		{"nfs", "", PlacementSpec{}, "Cannot add Service: id required", true},
		{"bogus", "", PlacementSpec{}, "Unknown service type 'bogus'", true},
		{"", "", PlacementSpec{}, "Cannot add Service: type required", true},
		{"iscsi", "x", PlacementSpec{}, "Cannot add ISCSI: No Pool specified", true},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.id, func(t *testing.T) {
			s, err := NewServiceSpec(tt.typ, tt.id, tt.p, false)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.ServiceName() != tt.want {
				t.Fatalf("ServiceName = %q, want %q", s.ServiceName(), tt.want)
			}
		})
	}
}

func TestDefaultPlacement(t *testing.T) {
	tests := []struct {
		typ  string
		want string
	}{
		{"mon", "count:5"}, {"mgr", "count:2"}, {"rgw", "count:2"}, {"nfs", "count:1"},
		{"crash", "*"}, {"node-exporter", "*"}, {"osd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			if got := DefaultPlacement(tt.typ).PrettyStr(); got != tt.want {
				t.Fatalf("DefaultPlacement(%s) = %q, want %q", tt.typ, got, tt.want)
			}
		})
	}
}
