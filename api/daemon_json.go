package api

import (
	"net/http"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends d encoded exactly as encoding/json encodes it (with
// HTML escaping off, as WriteJSON does). orch ps over thousands of hosts
// encodes tens of thousands of these; doing it without reflection keeps
// that listing fast. daemon_json_test.go checks the equivalence.
func (d *DaemonDescription) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKeyString(b, "daemon_type", d.DaemonType, false, true)
	b = appendKeyString(b, "daemon_id", d.DaemonID, false, false)
	b = appendKeyString(b, "service_name", d.ServiceName, true, false)
	b = appendKeyString(b, "daemon_name", d.DaemonName, false, false)
	b = appendKeyString(b, "hostname", d.Hostname, false, false)
	b = appendKeyString(b, "container_id", d.ContainerID, true, false)
	b = appendKeyString(b, "container_image_id", d.ContainerImageID, true, false)
	b = appendKeyString(b, "container_image_name", d.ContainerImageName, true, false)
	b = appendKeyStrings(b, "container_image_digests", d.ContainerImageDigests)
	b = appendKeyInt64(b, "memory_usage", d.MemoryUsage)
	b = appendKeyInt64(b, "memory_request", d.MemoryRequest)
	b = appendKeyInt64(b, "memory_limit", d.MemoryLimit)
	b = appendKeyString(b, "cpu_percentage", d.CPUPercentage, true, false)
	b = appendKeyString(b, "version", d.Version, true, false)
	b = appendKeyInt(b, "status", d.Status)
	b = appendKeyString(b, "status_desc", d.StatusDesc, true, false)
	b = appendKeyString(b, "osdspec_affinity", d.OSDSpecAffinity, true, false)
	b = append(b, `,"is_active":`...)
	b = strconv.AppendBool(b, d.IsActive)
	if len(d.Ports) > 0 {
		b = append(b, `,"ports":[`...)
		for i, p := range d.Ports {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(p), 10)
		}
		b = append(b, ']')
	}
	if d.IP != nil {
		b = appendKeyString(b, "ip", *d.IP, false, false)
	}
	b = appendKeyStrings(b, "deployed_by", d.DeployedBy)
	b = appendKeyInt(b, "rank", d.Rank)
	b = appendKeyInt(b, "rank_generation", d.RankGeneration)
	b = appendKeyStrings(b, "extra_container_args", d.ExtraContainerArgs)
	b = appendKeyStrings(b, "extra_entrypoint_args", d.ExtraEntrypointArgs)
	b = appendKeyString(b, "last_refresh", d.LastRefresh, true, false)
	b = appendKeyString(b, "created", d.Created, true, false)
	b = appendKeyString(b, "started", d.Started, true, false)
	b = appendKeyString(b, "last_deployed", d.LastDeployed, true, false)
	b = appendKeyString(b, "last_configured", d.LastConfigured, true, false)
	b = appendKeyStrings(b, "events", d.Events)
	return append(b, '}')
}

// WriteDaemonsJSON writes a daemon list as WriteJSON would.
func WriteDaemonsJSON(w http.ResponseWriter, status int, ds []DaemonDescription) {
	b := make([]byte, 0, 512*len(ds)+3)
	b = append(b, '[')
	for i := range ds {
		if i > 0 {
			b = append(b, ',')
		}
		b = ds[i].AppendJSON(b)
	}
	b = append(b, ']', '\n')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func appendKeyString(b []byte, key, v string, omitEmpty, first bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

func appendKeyStrings(b []byte, key string, vs []string) []byte {
	if len(vs) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

func appendKeyInt64(b []byte, key string, v *int64) []byte {
	if v == nil {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, *v, 10)
}

func appendKeyInt(b []byte, key string, v *int) []byte {
	if v == nil {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, int64(*v), 10)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does without HTML escaping:
// invalid UTF-8 becomes U+FFFD, control characters and U+2028/U+2029 are
// escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
