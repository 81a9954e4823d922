package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"pgregory.net/rapid"
)

func stdJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "encode error: " + err.Error()
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// TestDaemonAppendJSONMatchesEncodingJSON checks the hand-written encoder
// against encoding/json on random daemon descriptions.
func TestDaemonAppendJSONMatchesEncodingJSON(t *testing.T) {
	str := rapid.OneOf(rapid.String(), rapid.StringMatching(`[a-z0-9.:-]{0,12}`), rapid.SampledFrom([]string{"", "\u2028x", "a\"b\\c", "\x00\x1f\x7f", "<&>", "\xff\xfe", "é€😀"}))
	ptrInt := func(t *rapid.T, label string) *int {
		if rapid.Bool().Draw(t, label+"?") {
			v := rapid.IntRange(-5, 1<<20).Draw(t, label)
			return &v
		}
		return nil
	}
	ptrInt64 := func(t *rapid.T, label string) *int64 {
		if rapid.Bool().Draw(t, label+"?") {
			v := rapid.Int64().Draw(t, label)
			return &v
		}
		return nil
	}
	strs := func(t *rapid.T, label string) []string {
		return rapid.SliceOfN(str, 0, 3).Draw(t, label)
	}
	rapid.Check(t, func(t *rapid.T) {
		d := DaemonDescription{
			DaemonType: str.Draw(t, "type"), DaemonID: str.Draw(t, "id"), ServiceName: str.Draw(t, "svc"),
			DaemonName: str.Draw(t, "name"), Hostname: str.Draw(t, "host"), ContainerID: str.Draw(t, "cid"),
			ContainerImageID: str.Draw(t, "iid"), ContainerImageName: str.Draw(t, "iname"),
			ContainerImageDigests: strs(t, "digests"), MemoryUsage: ptrInt64(t, "mu"), MemoryRequest: ptrInt64(t, "mr"),
			MemoryLimit: ptrInt64(t, "ml"), CPUPercentage: str.Draw(t, "cpu"), Version: str.Draw(t, "ver"),
			Status: ptrInt(t, "status"), StatusDesc: str.Draw(t, "sd"), OSDSpecAffinity: str.Draw(t, "aff"),
			IsActive: rapid.Bool().Draw(t, "active"), Ports: rapid.SliceOfN(rapid.IntRange(0, 65535), 0, 3).Draw(t, "ports"),
			DeployedBy: strs(t, "by"), Rank: ptrInt(t, "rank"), RankGeneration: ptrInt(t, "gen"),
			ExtraContainerArgs: strs(t, "eca"), ExtraEntrypointArgs: strs(t, "eea"), LastRefresh: str.Draw(t, "lr"),
			Created: str.Draw(t, "cr"), Started: str.Draw(t, "st"), LastDeployed: str.Draw(t, "ld"),
			LastConfigured: str.Draw(t, "lc"), Events: strs(t, "ev"),
		}
		if rapid.Bool().Draw(t, "ip?") {
			ip := str.Draw(t, "ip")
			d.IP = &ip
		}
		if got, want := string(d.AppendJSON(nil)), stdJSON(d); got != want {
			t.Fatalf("AppendJSON:\n got %s\nwant %s", got, want)
		}
	})
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "abc", "\u2028", "\xff", "\"\\", "\x00\x01\x1f", "<>&", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendJSONString(nil, s)), stdJSON(s); got != want {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
