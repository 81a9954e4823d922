package orchestrator

import (
	"fmt"
	"strconv"
	"strings"
)

// noSuffixTypes are the daemon types cephadm names without a random
// suffix: at most one per host, so the short host name is unique already
// (get_unique_name).
var noSuffixTypes = map[string]bool{
	"mon": true, "crash": true, "ceph-exporter": true, "node-proxy": true, "prometheus": true,
	"node-exporter": true, "grafana": true, "alertmanager": true, "container": true, "agent": true,
	"snmp-gateway": true, "loki": true, "promtail": true, "elasticsearch": true,
	"jaeger-collector": true, "jaeger-agent": true, "jaeger-query": true,
	"mgmt-gateway": true, "oauth2-proxy": true,
}

// nameRequest is the input of uniqueName.
type nameRequest struct {
	DaemonType string
	Host       string
	// Prefix is the service id ("" for services without one).
	Prefix string
	// ForceName is a placement's host=name: used verbatim.
	ForceName string
	// Rank and RankGeneration are set for ranked services.
	Rank, RankGeneration *int
}

// suffixLetters draws n random lowercase letters.
type suffixLetters func(n int) string

// uniqueName is cephadm's get_unique_name: the daemon id
// [<prefix>.][<rank>.<gen>.]<short host>[.<6 random a-z>], where taken holds
// the ids already used by daemons of the same type. Types without a suffix
// (and forced names) fail when the id is taken; the others draw again.
func uniqueName(r nameRequest, taken func(id string) bool, letters suffixLetters) (string, error) {
	if r.ForceName != "" {
		if taken(r.ForceName) {
			return "", invalidf("name %s.%s already in use", r.DaemonType, r.ForceName)
		}
		return r.ForceName, nil
	}
	host, _, _ := strings.Cut(r.Host, ".")
	suffix := !noSuffixTypes[r.DaemonType]
	for attempt := 0; ; attempt++ {
		var b strings.Builder
		if r.Prefix != "" {
			b.WriteString(r.Prefix)
			b.WriteByte('.')
		}
		if r.Rank != nil && r.RankGeneration != nil {
			b.WriteString(strconv.Itoa(*r.Rank))
			b.WriteByte('.')
			b.WriteString(strconv.Itoa(*r.RankGeneration))
			b.WriteByte('.')
		}
		b.WriteString(host)
		if suffix {
			b.WriteByte('.')
			b.WriteString(letters(6))
		}
		name := b.String()
		if !taken(name) {
			return name, nil
		}
		if !suffix {
			return "", invalidf("name %s.%s already in use", r.DaemonType, name)
		}
		if attempt > 1000 {
			return "", fmt.Errorf("no free name for a %s daemon on %s after %d attempts", r.DaemonType, r.Host, attempt)
		}
	}
}
