package plan

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/orchceph/orch/scheduler"
)

// SlotJSON is a slot in the contract's JSON shape.
type SlotJSON struct {
	DaemonType     string  `json:"daemon_type"`
	Hostname       string  `json:"hostname"`
	Network        string  `json:"network"`
	Name           string  `json:"name"`
	IP             *string `json:"ip"`
	Ports          []int   `json:"ports"`
	Rank           *int    `json:"rank"`
	RankGeneration *int    `json:"rank_generation"`
}

// RejectionJSON is one host that got no daemon, with the reason.
type RejectionJSON struct {
	Host   string `json:"host"`
	Reason string `json:"reason"`
}

// ServiceJSON is one services[] entry of `orch plan --format json`.
type ServiceJSON struct {
	ServiceName string          `json:"service_name"`
	Unmanaged   bool            `json:"unmanaged,omitempty"`
	Slots       []SlotJSON      `json:"slots"`
	ToAdd       []SlotJSON      `json:"to_add"`
	ToRemove    []string        `json:"to_remove"`
	RankMap     RankMapJSON     `json:"rank_map"`
	Rejected    []RejectionJSON `json:"rejected,omitempty"`
}

// OSDJSON is one osds[] entry.
type OSDJSON struct {
	ServiceName string   `json:"service_name"`
	Host        string   `json:"host"`
	Data        []string `json:"data"`
	DB          []string `json:"db"`
	WAL         []string `json:"wal"`
	Journal     []string `json:"journal"`
}

// ResultJSON is the whole `orch plan --format json` document.
type ResultJSON struct {
	Services []ServiceJSON `json:"services"`
	OSDs     []OSDJSON     `json:"osds"`
}

// RankMapJSON renders a rank map as {"rank": {"generation": id|null}}
// with numeric key order; a nil map is null.
type RankMapJSON scheduler.RankMap

// MarshalJSON writes ranks and generations in ascending numeric order.
func (m RankMapJSON) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	ranks := make([]int, 0, len(m))
	for r := range m {
		ranks = append(ranks, r)
	}
	slices.Sort(ranks)
	for i, r := range ranks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strconv.Itoa(r) + `":{`)
		gens := make([]int, 0, len(m[r]))
		for g := range m[r] {
			gens = append(gens, g)
		}
		slices.Sort(gens)
		for j, g := range gens {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strconv.Itoa(g) + `":`)
			if id := m[r][g]; id == "" {
				b.WriteString("null")
			} else {
				enc, err := json.Marshal(id)
				if err != nil {
					return nil, err
				}
				b.Write(enc)
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func slotsJSON(slots []scheduler.Slot) []SlotJSON {
	out := make([]SlotJSON, len(slots))
	for i, s := range slots {
		j := SlotJSON{DaemonType: s.DaemonType, Hostname: s.Hostname, Network: s.Network, Name: s.Name,
			Ports: s.Ports, Rank: s.Rank, RankGeneration: s.RankGeneration}
		if j.Ports == nil {
			j.Ports = []int{}
		}
		if s.IP != "" {
			ip := s.IP
			j.IP = &ip
		}
		out[i] = j
	}
	return out
}

// JSON returns the result in the contract's JSON shape.
func (r *Result) JSON() ResultJSON {
	out := ResultJSON{Services: make([]ServiceJSON, 0, len(r.Services)), OSDs: make([]OSDJSON, 0, len(r.OSDs))}
	for _, s := range r.Services {
		sj := ServiceJSON{ServiceName: s.ServiceName, Unmanaged: s.Unmanaged, Slots: slotsJSON(s.Slots),
			ToAdd: slotsJSON(s.ToAdd), ToRemove: make([]string, len(s.ToRemove)), RankMap: RankMapJSON(s.RankMap)}
		for i := range s.ToRemove {
			sj.ToRemove[i] = s.ToRemove[i].Name()
		}
		for _, rj := range s.Rejected {
			sj.Rejected = append(sj.Rejected, RejectionJSON{Host: rj.Host, Reason: string(rj.Reason)})
		}
		out.Services = append(out.Services, sj)
	}
	for _, o := range r.OSDs {
		out.OSDs = append(out.OSDs, OSDJSON{ServiceName: o.ServiceName, Host: o.Host, Data: o.Data, DB: o.DB,
			WAL: o.WAL, Journal: o.Journal})
	}
	return out
}

// WritePlain writes cephadm's preview tables (SERVICESPEC PREVIEWS with
// SERVICE NAME ADD_TO REMOVE_FROM, OSDSPEC PREVIEWS with SERVICE NAME HOST
// DATA DB WAL), and with explain a table of the hosts left out.
func (r *Result) WritePlain(w io.Writer, explain bool) error {
	var b strings.Builder
	svc := &boxTable{header: []string{"SERVICE", "NAME", "ADD_TO", "REMOVE_FROM"}}
	for _, s := range r.Services {
		var add, rm []string
		for _, a := range s.ToAdd {
			add = append(add, a.Hostname)
		}
		for i := range s.ToRemove {
			rm = append(rm, s.ToRemove[i].Name())
		}
		svc.add(s.ServiceType, s.ServiceName, strings.Join(add, " "), strings.Join(rm, " "))
	}
	osd := &boxTable{header: []string{"SERVICE", "NAME", "HOST", "DATA", "DB", "WAL"}}
	for _, o := range r.OSDs {
		for i, data := range o.Data {
			osd.add("osd", o.ServiceID, o.Host, data, share(o.DB, i, len(o.Data)), share(o.WAL, i, len(o.Data)))
		}
	}
	b.WriteString("####################\nSERVICESPEC PREVIEWS\n####################\n")
	svc.write(&b)
	b.WriteString("################\nOSDSPEC PREVIEWS\n################\n")
	osd.write(&b)
	if explain {
		rej := &boxTable{header: []string{"SERVICE", "NAME", "HOST", "REASON"}}
		for _, s := range r.Services {
			for _, rj := range s.Rejected {
				rej.add(s.ServiceType, s.ServiceName, rj.Host, string(rj.Reason))
			}
		}
		b.WriteString("##############\nREJECTED HOSTS\n##############\n")
		rej.write(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// share returns the device of devs that the i-th of n data devices shares
// (ceph-volume batch spreads data devices evenly over db/wal devices), or
// "-" when there is none.
func share(devs []string, i, n int) string {
	if len(devs) == 0 || n == 0 {
		return "-"
	}
	return devs[min(i*len(devs)/n, len(devs)-1)]
}

// boxTable renders like PrettyTable(border=True, header_style='upper')
// with left alignment, no left padding and two spaces of right padding,
// as cephadm's preview tables do.
type boxTable struct {
	header []string
	rows   [][]string
}

func (t *boxTable) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *boxTable) write(b *strings.Builder) {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	rule := func() {
		b.WriteByte('+')
		for _, w := range widths {
			b.WriteString(strings.Repeat("-", w+2))
			b.WriteByte('+')
		}
		b.WriteByte('\n')
	}
	line := func(cells []string) {
		b.WriteByte('|')
		for i, w := range widths {
			b.WriteString(cells[i])
			b.WriteString(strings.Repeat(" ", w-utf8.RuneCountInString(cells[i])+2))
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	rule()
	line(t.header)
	rule()
	for _, r := range t.rows {
		line(r)
	}
	rule()
}
