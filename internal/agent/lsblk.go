package agent

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// flexString decodes a JSON string, number, bool or null into a string:
// util-linux changed lsblk's JSON types over the years (numbers and bools
// were strings before 2.33), so the agent accepts both.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case nil:
		*f = ""
	case string:
		*f = flexString(x)
	case bool:
		if x {
			*f = "1"
		} else {
			*f = "0"
		}
	case float64:
		*f = flexString(strconv.FormatFloat(x, 'f', -1, 64))
	default:
		return fmt.Errorf("unexpected JSON value %s", b)
	}
	return nil
}

// LsblkDevice is the subset of one `lsblk -J -b -O` entry the inventory uses.
type LsblkDevice struct {
	Name      flexString    `json:"name"`
	KName     flexString    `json:"kname"`
	Path      flexString    `json:"path"`
	PKName    flexString    `json:"pkname"`
	Type      flexString    `json:"type"`
	FSType    flexString    `json:"fstype"`
	PTType    flexString    `json:"pttype"`
	PartLabel flexString    `json:"partlabel"`
	PartType  flexString    `json:"parttype"`
	Size      flexString    `json:"size"`
	Rota      flexString    `json:"rota"`
	RO        flexString    `json:"ro"`
	RM        flexString    `json:"rm"`
	Model     flexString    `json:"model"`
	Serial    flexString    `json:"serial"`
	Children  []LsblkDevice `json:"children"`
}

// ParseLsblk parses `lsblk -J -b -O` output into a flat map by kernel name
// (children included).
func ParseLsblk(out []byte) (map[string]LsblkDevice, error) {
	var doc struct {
		BlockDevices []LsblkDevice `json:"blockdevices"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("parse lsblk output: %w", err)
	}
	flat := map[string]LsblkDevice{}
	var walk func([]LsblkDevice)
	walk = func(devs []LsblkDevice) {
		for _, d := range devs {
			key := string(d.KName)
			if key == "" {
				key = string(d.Name)
			}
			if _, dup := flat[key]; !dup {
				kids := d.Children
				d.Children = nil
				flat[key] = d
				walk(kids)
			}
		}
	}
	walk(doc.BlockDevices)
	return flat, nil
}

// ParseBlkid parses `blkid -p DEV` output ("/dev/x: KEY="value" ...") into a
// map; -p names partition keys PART_ENTRY_*.
func ParseBlkid(out string) map[string]string {
	kv := map[string]string{}
	line := strings.TrimSpace(out)
	if i := strings.Index(line, ": "); i >= 0 {
		line = line[i+2:]
	}
	for line != "" {
		line = strings.TrimLeft(line, " ")
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			break
		}
		key := line[:eq]
		rest := line[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				val, rest = rest[1:], ""
			} else {
				val, rest = rest[1:1+end], rest[end+2:]
			}
		} else {
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				val, rest = rest, ""
			} else {
				val, rest = rest[:sp], rest[sp:]
			}
		}
		kv[key] = val
		line = rest
	}
	return kv
}
