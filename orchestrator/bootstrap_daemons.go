package orchestrator

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
)

// Pure builders of what bootstrap sends: configuration text and the
// agent's deploy documents for the first mon, mgr and crash daemons.

// monAddrv is the mon's address vector as mon_host and generate-minimal-conf
// write it: "[v2:IP:3300/0,v1:IP:6789/0]".
func monAddrv(ip string) string {
	return fmt.Sprintf("[v2:%s/0,v1:%s/0]", hostPort(ip, monPorts[0]), hostPort(ip, monPorts[1]))
}

// monmapAddrv is the same vector as monmaptool --addv takes it.
func monmapAddrv(ip string) string {
	return fmt.Sprintf("[v2:%s,v1:%s]", hostPort(ip, monPorts[0]), hostPort(ip, monPorts[1]))
}

func hostPort(ip string, port int) string {
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() {
		return "[" + ip + "]:" + strconv.Itoa(port)
	}
	return ip + ":" + strconv.Itoa(port)
}

func isIPv6(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && a.Is6() && !a.Is4In6()
}

// clientConf is the minimal ceph.conf before the monitors can generate
// one: fsid and mon_host, in generate-minimal-conf's layout.
func clientConf(fsid, monIP string) string {
	return "# minimal ceph.conf for " + fsid + "\n[global]\n\tfsid = " + fsid + "\n\tmon_host = " + monAddrv(monIP) + "\n"
}

// monConf is the first monitor's own ceph.conf: the client conf, the
// options it needs before it can read its configuration database, and its
// public network (cephadm writes `[mon.<id>] public network = ...`).
func monConf(fsid, monIP, id, publicNetwork string) string {
	var b strings.Builder
	b.WriteString(clientConf(fsid, monIP))
	if isIPv6(monIP) {
		b.WriteString("\tms_bind_ipv6 = true\n")
	}
	b.WriteString("[mon]\n\tauth_allow_insecure_global_id_reclaim = false\n")
	if publicNetwork != "" {
		fmt.Fprintf(&b, "[mon.%s]\n\tpublic network = %s\n", id, publicNetwork)
	}
	return b.String()
}

// bootstrapConfig is the configuration bootstrap assimilates into the
// monitors' database once they are up (cephadm: the bootstrap conf plus
// its `config set` calls).
func bootstrapConfig(rec *bootstrapRecord, r api.BootstrapRequest) string {
	var b strings.Builder
	b.WriteString("[global]\n\tcontainer_image = " + r.Image + "\n")
	if rec.ClusterNetwork != "" {
		b.WriteString("\tcluster_network = " + rec.ClusterNetwork + "\n")
	}
	if isIPv6(r.MonIP) {
		b.WriteString("\tms_bind_ipv6 = true\n")
	}
	if r.SingleHostDefaults {
		b.WriteString("\tosd_crush_chooseleaf_type = 0\n\tosd_pool_default_size = 2\n")
	}
	b.WriteString("[mon]\n\tauth_allow_insecure_global_id_reclaim = false\n")
	if rec.PublicNetwork != "" {
		b.WriteString("\tpublic_network = " + rec.PublicNetwork + "\n")
	}
	if r.SingleHostDefaults {
		b.WriteString("[mgr]\n\tmgr_standby_modules = false\n")
	}
	return b.String()
}

// bootstrapKeyring is the keyring `ceph-mon --mkfs` imports: the cluster's
// first entities and their caps (cephadm: mon., client.admin; plus
// client.bootstrap-osd, which ceph-volume uses to create OSDs).
func bootstrapKeyring(keys map[string]string) string {
	return renderKeyring(
		keyringEntry{Entity: "mon.", Key: keys["mon."], Caps: map[string]string{"mon": "allow *"}},
		keyringEntry{Entity: "client.admin", Key: keys["client.admin"], Caps: map[string]string{
			"mon": "allow *", "mgr": "allow *", "osd": "allow *", "mds": "allow *"}},
		keyringEntry{Entity: "client.bootstrap-osd", Key: keys["client.bootstrap-osd"], Caps: map[string]string{
			"mon": "profile bootstrap-osd", "mgr": "allow r"}},
	)
}

// cephDeploy describes one Ceph daemon to deploy.
type cephDeploy struct {
	FSID, Image, Type, ID string
	UID, GID              int
	Config, Keyring       string
	Ports                 []int
	// PortIP binds the agent's port check to one address.
	PortIP string
	Files  map[string]string
	Init   []agent.InitContainer
}

// cephDeployRequest renders the agent's deploy document for d.
func cephDeployRequest(d cephDeploy) (*agent.DeployRequest, error) {
	uid, gid := d.UID, d.GID
	req := &agent.DeployRequest{
		FSID:  d.FSID,
		Name:  d.Type + "." + d.ID,
		Image: d.Image,
		Params: agent.DeployParams{
			TCPPorts: append([]int(nil), d.Ports...),
			UID:      &uid,
			GID:      &gid,
		},
		Meta:           agent.DeployMeta{ServiceName: d.Type, Ports: append([]int(nil), d.Ports...)},
		ConfigBlobs:    agent.ConfigBlobs{Config: d.Config, Keyring: d.Keyring, Files: d.Files},
		InitContainers: d.Init,
	}
	if d.PortIP != "" && len(d.Ports) > 0 {
		req.Params.PortIPs = map[string]string{}
		for _, p := range d.Ports {
			req.Params.PortIPs[strconv.Itoa(p)] = d.PortIP
		}
		ip := d.PortIP
		req.Meta.IP = &ip
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return req, nil
}

// monMkfsScript runs `ceph-mon --mkfs` in the init container. mkfs wants
// an empty mon_data, but the agent has written config, keyring and
// unit.meta into the data dir already, so it builds the store in .mkfs
// and moves it into place; then it deletes the bootstrap keyring (it
// holds the admin key) and the monmap. Arguments: mon id, fsid.
const monMkfsScript = `set -eu
id=$1 fsid=$2
d=/var/lib/ceph/mon/ceph-$id
rm -rf "$d/.mkfs"
mkdir -m 0700 "$d/.mkfs"
chown ceph:ceph "$d/.mkfs"
ceph-mon --mkfs -i "$id" --fsid "$fsid" --mon-data "$d/.mkfs" \
  --monmap "$d/bootstrap/monmap" --keyring "$d/bootstrap/keyring" \
  --setuser ceph --setgroup ceph --default-log-to-file=false --default-log-to-stderr=true --debug-rocksdb=0/0
for f in "$d/.mkfs"/*; do
  rm -rf "$d/${f##*/}"
  mv "$f" "$d/"
done
rmdir "$d/.mkfs"
rm -rf "$d/bootstrap"`

// monDeploy describes the first monitor.
type monDeploy struct {
	FSID, Image, ID string
	UID, GID        int
	MonIP           string
	PublicNetwork   string
	// Keys are the generated keys: mon., client.admin,
	// client.bootstrap-osd.
	Keys map[string]string
}

// monDeployRequest is the first monitor's deploy document: its conf and
// mon. keyring; the bootstrap keyring as a data-dir file for mkfs; two
// first-deploy init containers, monmaptool and mkfs.
func monDeployRequest(m monDeploy) (*agent.DeployRequest, error) {
	for _, e := range []string{"mon.", "client.admin", "client.bootstrap-osd"} {
		if m.Keys[e] == "" {
			return nil, fmt.Errorf("deploy mon.%s: no %s key", m.ID, e)
		}
	}
	dataDir := "/var/lib/ceph/mon/ceph-" + m.ID
	return cephDeployRequest(cephDeploy{
		FSID: m.FSID, Image: m.Image, Type: "mon", ID: m.ID, UID: m.UID, GID: m.GID,
		Config:  monConf(m.FSID, m.MonIP, m.ID, m.PublicNetwork),
		Keyring: minimalKeyring("mon.", m.Keys["mon."]),
		Ports:   monPorts,
		PortIP:  m.MonIP,
		Files:   map[string]string{"bootstrap/keyring": bootstrapKeyring(m.Keys)},
		Init: []agent.InitContainer{
			{
				Name: "monmap", Entrypoint: "/usr/bin/monmaptool",
				Args: []string{"--create", "--clobber", "--fsid", m.FSID, "--addv", m.ID, monmapAddrv(m.MonIP),
					dataDir + "/bootstrap/monmap"},
				DefaultMounts: true, When: agent.RunFirstDeploy,
			},
			{
				Name: "mkfs", Entrypoint: "/bin/bash",
				Args:          []string{"-c", monMkfsScript, "mkfs", m.ID, m.FSID},
				DefaultMounts: true, When: agent.RunFirstDeploy,
			},
		},
	})
}
