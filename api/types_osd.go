package api

// OSDRemoveRequest is the body of POST /osds/remove (`orch osd rm`).
type OSDRemoveRequest struct {
	OSDIDs    []int `json:"osd_ids"`
	Replace   bool  `json:"replace"`
	Force     bool  `json:"force"`
	Zap       bool  `json:"zap"`
	NoDestroy bool  `json:"no_destroy"`
}

// OSDIDsRequest is the body of DELETE /osds/remove (`orch osd rm stop`).
type OSDIDsRequest struct {
	OSDIDs []int `json:"osd_ids"`
}

// OSDRemoval is one entry of GET /osds/remove (`orch osd rm status`):
// cephadm's OSD.to_json() with its timestamps in cephadm's format (null
// when unset), plus pg_count when the controller has seen it.
type OSDRemoval struct {
	OSDID            int      `json:"osd_id"`
	Started          bool     `json:"started"`
	Draining         bool     `json:"draining"`
	Stopped          bool     `json:"stopped"`
	Replace          bool     `json:"replace"`
	Force            bool     `json:"force"`
	Zap              bool     `json:"zap"`
	Hostname         string   `json:"hostname"`
	OriginalWeight   *float64 `json:"original_weight"`
	DrainStartedAt   *string  `json:"drain_started_at"`
	DrainStoppedAt   *string  `json:"drain_stopped_at"`
	DrainDoneAt      *string  `json:"drain_done_at"`
	ProcessStartedAt *string  `json:"process_started_at"`
	PGCount          *int     `json:"pg_count,omitempty"`
}

// DrainStatus is cephadm's drain_status_human(): the STATE column of
// `orch osd rm status`.
func (o *OSDRemoval) DrainStatus() string {
	status := "not started"
	if o.Started && !o.Draining {
		status = "started"
	}
	if o.Draining {
		status = "draining"
	}
	if o.DrainDoneAt != nil && !o.Draining {
		status = "done, waiting for purge"
	}
	return status
}

// ZapRequest is the body of POST /devices/zap (`orch device zap`).
type ZapRequest struct {
	Host  string `json:"host"`
	Path  string `json:"path"`
	Force bool   `json:"force"`
}
