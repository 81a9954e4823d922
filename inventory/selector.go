package inventory

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/orchceph/orch/spec"
)

// Role names a device role of a drive group, as cephadm spells the spec
// field.
type Role string

// The roles, in the order SelectDrives assigns them. wal comes before db:
// cephadm assigns data, wal, db, journal, each taking its devices out of
// the pool the next role sees.
const (
	RoleData    Role = "data_devices"
	RoleWAL     Role = "wal_devices"
	RoleDB      Role = "db_devices"
	RoleJournal Role = "journal_devices"
)

// Roles returns the roles in assignment order.
func Roles() []Role { return []Role{RoleData, RoleWAL, RoleDB, RoleJournal} }

// Selection is the devices a drive group takes on one host, per role.
// Filtered roles are sorted by path; a role given as explicit paths holds
// those paths as written, in the spec's order.
type Selection struct {
	Data, WAL, DB, Journal []Device
}

// Role returns the devices of r.
func (s *Selection) Role(r Role) []Device {
	switch r {
	case RoleData:
		return s.Data
	case RoleWAL:
		return s.WAL
	case RoleDB:
		return s.DB
	case RoleJournal:
		return s.Journal
	}
	return nil
}

func (s *Selection) set(r Role, devs []Device) {
	switch r {
	case RoleData:
		s.Data = devs
	case RoleWAL:
		s.WAL = devs
	case RoleDB:
		s.DB = devs
	case RoleJournal:
		s.Journal = devs
	}
}

// DataPaths returns the paths of the data devices.
func (s *Selection) DataPaths() []string { return Paths(s.Data) }

// WALPaths returns the paths of the WAL devices.
func (s *Selection) WALPaths() []string { return Paths(s.WAL) }

// DBPaths returns the paths of the DB devices.
func (s *Selection) DBPaths() []string { return Paths(s.DB) }

// JournalPaths returns the paths of the journal devices.
func (s *Selection) JournalPaths() []string { return Paths(s.Journal) }

// Empty reports whether no role selected anything.
func (s *Selection) Empty() bool {
	return len(s.Data)+len(s.WAL)+len(s.DB)+len(s.Journal) == 0
}

// String prints the selection as cephadm's DriveSelection repr does.
func (s *Selection) String() string {
	return fmt.Sprintf("DeviceSelection(data devices=%s, wal_devices=%s, db devices=%s, journal devices=%s)",
		pyList(s.DataPaths()), pyList(s.WALPaths()), pyList(s.DBPaths()), pyList(s.JournalPaths()))
}

func pyList(items []string) string {
	quoted := make([]string, len(items))
	for i, p := range items {
		quoted[i] = "'" + p + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// Paths returns the paths of devs, never nil.
func Paths(devs []Device) []string {
	out := make([]string, len(devs))
	for i := range devs {
		out[i] = devs[i].Path
	}
	return out
}

// SelectDrives picks the devices of one host that the drive group dg
// takes, with cephadm's DriveSelection semantics. devices is the host's
// inventory (it is copied and stably sorted by path, as cephadm's Devices
// container holds every host inventory); existingDaemons is the number of
// OSD daemons of this spec already on the host, which count against each
// role's limit.
//
// Without data_devices nothing is selected. Per role, explicit paths are
// returned as given. Otherwise each device of the remaining pool is
// considered in order:
//
//  1. skipped when unavailable, unless it is a Ceph device; an unavailable
//     Ceph device is also skipped when an LV names another OSD spec in
//     osdspec_affinity;
//  2. the limit is checked before matching and ends the role: it is
//     reached when devices selected so far that are not Ceph devices, plus
//     existingDaemons, are at least limit (> 0);
//  3. a device equal to one already selected is skipped;
//  4. the filters (size, model, vendor, rotational, all) must all match
//     (filter_logic AND, the default) or one must (OR).
//
// A filter that cannot be applied fails the whole selection with a
// *spec.ValidationError of kind DriveGroupValidationError and message
// `Failed to validate OSD spec "<service_id>.<role>": <reason>`. Malformed
// device data fails with a *DeviceError (errors.Is ErrInvalidDevice).
//
// dg must not be nil.
func SelectDrives(dg *spec.DriveGroupSpec, devices []Device, existingDaemons int) (*Selection, error) {
	pool := make([]Device, len(devices))
	copy(pool, devices)
	SortByPath(pool)
	sel := &Selection{}
	for _, r := range Roles() {
		devs, err := assign(dg, r, roleSelection(dg, r), &pool, existingDaemons)
		if err != nil {
			var mi *MatchInvalid
			if errors.As(err, &mi) {
				return nil, &spec.ValidationError{
					Kind: "DriveGroupValidationError",
					Msg:  fmt.Sprintf("Failed to validate OSD spec %q: %s", pyServiceID(dg)+"."+string(r), mi.Msg),
				}
			}
			return nil, err
		}
		sel.set(r, devs)
	}
	return sel, nil
}

func roleSelection(dg *spec.DriveGroupSpec, r Role) *spec.DeviceSelection {
	switch r {
	case RoleData:
		return dg.DataDevices
	case RoleWAL:
		return dg.WALDevices
	case RoleDB:
		return dg.DBDevices
	case RoleJournal:
		return dg.JournalDevices
	}
	return nil
}

// pyServiceID is str(spec.service_id): an unset id prints as "None".
func pyServiceID(dg *spec.DriveGroupSpec) string {
	if dg.ServiceID == "" {
		return "None"
	}
	return dg.ServiceID
}

// assign is DriveSelection.assign_devices for one role. It removes the
// devices it takes from *pool.
func assign(dg *spec.DriveGroupSpec, r Role, ds *spec.DeviceSelection, pool *[]Device, existing int) ([]Device, error) {
	if ds == nil || dg.DataDevices == nil {
		return []Device{}, nil
	}
	if len(ds.Paths) > 0 {
		out := make([]Device, len(ds.Paths))
		for i, p := range ds.Paths {
			out[i] = Device{Path: p.Path, CrushDeviceClass: p.CrushDeviceClass}
		}
		return out, nil
	}
	filters := filterMatchers{
		size: ds.Size, model: ds.Model, vendor: ds.Vendor,
		rotational: ds.Rotational, all: ds.All,
	}
	logic := strings.ToUpper(dg.FilterLogic)
	if logic == "" {
		logic = "AND"
	}
	id := pyServiceID(dg)

	taken := []Device{}
	nonCeph := 0
	for i := range *pool {
		disk := &(*pool)[i]
		if !disk.Available {
			if !disk.CephDevice {
				continue
			}
			if otherSpec(disk, id) {
				continue
			}
		}
		if disk.Path == "" {
			return nil, &DeviceError{Path: disk.Path, Reason: "no 'path' identifier"}
		}
		if ds.Limit > 0 && nonCeph+existing >= ds.Limit {
			break
		}
		if containsDevice(taken, disk) {
			continue
		}
		var ok bool
		var err error
		switch logic {
		case "AND":
			ok, err = filters.matchAll(disk)
		case "OR":
			ok, err = filters.matchAny(disk)
		default:
			// cephadm applies no filter for any other value; validation
			// rejects it before a selection is made.
			ok = true
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		taken = append(taken, *disk)
		if !disk.CephDevice {
			nonCeph++
		}
	}
	for i := range taken {
		removeFirst(pool, &taken[i])
	}
	sort.SliceStable(taken, func(i, j int) bool { return taken[i].Path < taken[j].Path })
	return taken, nil
}

// otherSpec reports whether an unavailable Ceph device belongs to another
// OSD spec: the first LV whose osdspec_affinity differs from id decides,
// and an empty or null affinity there does not exclude the device.
func otherSpec(disk *Device, id string) bool {
	for _, lv := range disk.LVs {
		v, ok := lv.Get("osdspec_affinity")
		if !ok || pyEqual(v, id) {
			continue
		}
		return pyTruth(v)
	}
	return false
}

func containsDevice(devs []Device, d *Device) bool {
	for i := range devs {
		if devs[i].Equal(d) {
			return true
		}
	}
	return false
}

func removeFirst(pool *[]Device, d *Device) {
	for i := range *pool {
		if (*pool)[i].Equal(d) {
			*pool = append((*pool)[:i:i], (*pool)[i+1:]...)
			return
		}
	}
}
