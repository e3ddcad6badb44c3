package emulator

import (
	"fmt"
	"slices"
)

// OS types a server's image may report in metadata.os_type.
const (
	osLinux   = "Linux"
	osWindows = "Windows"
	osCoreOS  = "CoreOS"

	defaultFlavor     = "s6.large.2"
	defaultVolumeSize = 40
	defaultVolumeType = "SSD"
)

var osTypes = []string{osLinux, osWindows, osCoreOS}

// imageNames gives each OS type a plausible public image name.
var imageNames = map[string]string{
	osLinux:   "CentOS 7.9 64bit",
	osWindows: "Windows Server 2019 Datacenter 64bit English",
	osCoreOS:  "CoreOS 2303.3.0 64bit",
}

func checkOSType(os string) error {
	if !slices.Contains(osTypes, os) {
		return fmt.Errorf("os_type must be one of %v", osTypes)
	}
	return nil
}

func checkPower(field, status string) error {
	if status != powerActive && status != powerShutoff {
		return fmt.Errorf("%s must be %s or %s", field, powerActive, powerShutoff)
	}
	return nil
}

// addServer creates an ECS server. Caller holds e.mu.
func (e *Emulator) addServer(id, name, az, osType, status, flavor string) *Server {
	if id == "" {
		id = newUUID()
	}
	if flavor == "" {
		flavor = defaultFlavor
	}
	now := e.clock.Now()
	s := &Server{
		ID:        id,
		Seq:       e.st.nextSeq(),
		Name:      name,
		Status:    status,
		AZ:        az,
		OSType:    osType,
		ImageName: imageNames[osType],
		Flavor:    flavor,
		CreatedAt: now,
		UpdatedAt: now,
	}
	e.st.Servers[s.ID] = s
	return s
}

// addVolume creates an EVS disk. Caller holds e.mu.
func (e *Emulator) addVolume(id, name, az string, size int, volumeType string, bootable bool) *Volume {
	if id == "" {
		id = newUUID()
	}
	if size <= 0 {
		size = defaultVolumeSize
	}
	if volumeType == "" {
		volumeType = defaultVolumeType
	}
	v := &Volume{
		ID:         id,
		Seq:        e.st.nextSeq(),
		Name:       name,
		AZ:         az,
		Size:       size,
		VolumeType: volumeType,
		Bootable:   bootable,
		CreatedAt:  e.clock.Now(),
	}
	e.st.Volumes[v.ID] = v
	return v
}
