package emulator

import (
	"fmt"
)

// SeedSpec describes groups to create at once (POST /admin/seed).
type SeedSpec struct {
	Groups []SeedGroup `json:"groups"`
}

// SeedGroup is one protection group to seed. Empty fields take defaults:
// AZs cn-north-4a/cn-north-4b, priority_station source, protected true,
// replication_status active.
type SeedGroup struct {
	Name                   string         `json:"name"`
	Description            string         `json:"description"`
	SourceAvailabilityZone string         `json:"source_availability_zone"`
	TargetAvailabilityZone string         `json:"target_availability_zone"`
	PriorityStation        string         `json:"priority_station"`
	Protected              *bool          `json:"protected"`
	ReplicationStatus      string         `json:"replication_status"`
	Instances              []SeedInstance `json:"instances"`
}

// SeedInstance is one protected instance to seed: a production and a DR
// server and one attached replication pair. Defaults: os_type Linux,
// production ACTIVE, DR SHUTOFF. OSType may be Linux, Windows or CoreOS
// (served as os_type Linux with a CoreOS image name); ImageName defaults
// to a public image of that OS; KeyName names the key pair the servers
// were created with (empty: a password).
type SeedInstance struct {
	Name            string `json:"name"`
	OSType          string `json:"os_type"`
	ImageName       string `json:"image_name,omitempty"`
	KeyName         string `json:"key_name,omitempty"`
	ProductionPower string `json:"production_power"`
	DRPower         string `json:"dr_power"`

	os serverOS
}

// SeedResult lists what was created.
type SeedResult struct {
	Groups []SeedGroupResult `json:"groups"`
}

// SeedGroupResult is one seeded group.
type SeedGroupResult struct {
	ID        string               `json:"id"`
	Name      string               `json:"name"`
	Instances []SeedInstanceResult `json:"instances"`
}

// SeedInstanceResult is one seeded instance. ProductionServer and
// DRServer repeat SourceServer/TargetServer by role.
type SeedInstanceResult struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	SourceServer     string `json:"source_server"`
	TargetServer     string `json:"target_server"`
	ProductionServer string `json:"production_server"`
	DRServer         string `json:"dr_server"`
	ReplicationID    string `json:"replication_id"`
}

// normalize fills defaults and validates the whole spec, so a bad spec
// creates nothing.
func (s *SeedSpec) normalize() error {
	for gi := range s.Groups {
		g := &s.Groups[gi]
		if g.Name == "" {
			g.Name = fmt.Sprintf("seed-group-%d", gi+1)
		}
		if err := checkName(fmt.Sprintf("groups[%d].name", gi), g.Name); err != nil {
			return err
		}
		if err := checkDescription(&g.Description); err != nil {
			return err
		}
		if g.SourceAvailabilityZone == "" {
			g.SourceAvailabilityZone = DefaultSourceAZ
		}
		if g.TargetAvailabilityZone == "" {
			g.TargetAvailabilityZone = DefaultTargetAZ
		}
		if g.SourceAvailabilityZone == g.TargetAvailabilityZone {
			return invalidParam("groups[%d]: source and target availability zones must differ", gi)
		}
		if g.PriorityStation == "" {
			g.PriorityStation = stationSource
		}
		if g.PriorityStation != stationSource && g.PriorityStation != stationTarget {
			return invalidParam("groups[%d].priority_station must be source or target", gi)
		}
		if g.Protected == nil {
			protected := true
			g.Protected = &protected
		}
		switch {
		case !*g.Protected && g.ReplicationStatus != "":
			return invalidParam("groups[%d].replication_status needs protected: true", gi)
		case *g.Protected && g.ReplicationStatus == "":
			g.ReplicationStatus = replActive
		case *g.Protected && g.ReplicationStatus != replActive && g.ReplicationStatus != replCopying:
			return invalidParam("groups[%d].replication_status must be active or copying", gi)
		}
		for ii := range g.Instances {
			in := &g.Instances[ii]
			if in.Name == "" {
				in.Name = fmt.Sprintf("%s-vm-%d", g.Name, ii+1)
			}
			if err := checkName(fmt.Sprintf("groups[%d].instances[%d].name", gi, ii), in.Name); err != nil {
				return err
			}
			if in.OSType == "" {
				in.OSType = osLinux
			}
			if in.ProductionPower == "" {
				in.ProductionPower = powerActive
			}
			if in.DRPower == "" {
				in.DRPower = powerShutoff
			}
			var osErr error
			in.os, osErr = newServerOS(in.OSType, in.ImageName, in.KeyName)
			for _, err := range []error{
				osErr,
				checkPower("production_power", in.ProductionPower),
				checkPower("dr_power", in.DRPower),
			} {
				if err != nil {
					return invalidParam("groups[%d].instances[%d]: %v", gi, ii, err)
				}
			}
		}
	}
	return nil
}

// seedLocked creates the spec's objects synchronously. Caller holds e.mu.
func (e *Emulator) seedLocked(s SeedSpec) (SeedResult, error) {
	if err := s.normalize(); err != nil {
		return SeedResult{}, err
	}
	res := SeedResult{Groups: []SeedGroupResult{}}
	for _, sg := range s.Groups {
		res.Groups = append(res.Groups, e.seedGroup(sg))
	}
	return res, nil
}

func (e *Emulator) seedGroup(sg SeedGroup) SeedGroupResult {
	now := e.clock.Now()
	d := e.st.ensureDomain(sg.SourceAvailabilityZone, sg.TargetAvailabilityZone)
	g := &Group{
		ID:              newUUID(),
		Seq:             e.st.nextSeq(),
		Name:            sg.Name,
		Description:     nullable(sg.Description),
		Status:          statusAvailable,
		SourceAZ:        sg.SourceAvailabilityZone,
		TargetAZ:        sg.TargetAvailabilityZone,
		DomainID:        d.ID,
		SourceVpcID:     newUUID(),
		PriorityStation: sg.PriorityStation,
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	if *sg.Protected {
		g.Status = statusProtected
		g.ProtectedStatus = protectedStarted
	}
	e.st.Groups[g.ID] = g
	out := SeedGroupResult{ID: g.ID, Name: g.Name, Instances: []SeedInstanceResult{}}
	for _, si := range sg.Instances {
		out.Instances = append(out.Instances, e.seedInstance(g, si))
	}
	switch sg.ReplicationStatus {
	case replActive:
		e.setSync(g, replActive, 100)
	case replCopying:
		e.startSync(g, 0)
	}
	return out
}

func (e *Emulator) seedInstance(g *Group, si SeedInstance) SeedInstanceResult {
	prod := e.addServer("", si.Name, g.productionAZ(), si.os, si.ProductionPower, "")
	dr := e.addServer("", si.Name, g.drAZ(), si.os, si.DRPower, "")
	spec := newInstanceSpec{name: si.Name, serverID: prod.ID}
	in := e.addInstance(g, spec)
	if in.SourceServer == prod.ID {
		in.TargetServer = dr.ID
	} else {
		in.SourceServer = dr.ID
	}
	e.st.indexServers(in)
	in.Status = g.Status

	vol := e.addVolume("", si.Name+"-sys", g.productionAZ(), defaultVolumeSize, defaultVolumeType, true)
	drVol := e.addVolume("", si.Name+"-sys", g.drAZ(), defaultVolumeSize, defaultVolumeType, true)
	now := e.clock.Now()
	r := &Replication{
		ID: newUUID(), Seq: e.st.nextSeq(), Name: si.Name + "-vda", GroupID: g.ID, Status: g.Status,
		VolumeID: vol.ID, DRVolumeID: drVol.ID, InstanceID: in.ID, Device: "/dev/vda",
		Size: vol.Size, VolumeType: vol.VolumeType, Bootable: true, CreatedAt: now, UpdatedAt: now,
	}
	e.st.putReplication(r)
	return SeedInstanceResult{
		ID: in.ID, Name: in.Name, SourceServer: in.SourceServer, TargetServer: in.TargetServer,
		ProductionServer: prod.ID, DRServer: dr.ID, ReplicationID: r.ID,
	}
}
