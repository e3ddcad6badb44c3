package emulator

import (
	"fmt"
	"slices"
)

// OS types. ECS reports only Linux or Windows in metadata.os_type (SDK
// ServerDetail); CoreOS is accepted when seeding as a shortcut for a Linux
// server whose image is CoreOS, which only its image name says.
const (
	osLinux   = "Linux"
	osWindows = "Windows"
	osCoreOS  = "CoreOS"

	defaultFlavor     = "s6.large.2"
	defaultVolumeSize = 40
	defaultVolumeType = "SSD"
	maxKeyNameLen     = 64
)

var osTypes = []string{osLinux, osWindows, osCoreOS}

// imageNames gives each OS type a plausible public image name.
var imageNames = map[string]string{
	osLinux:   "CentOS 7.9 64bit",
	osWindows: "Windows Server 2019 Datacenter 64bit English",
	osCoreOS:  "CoreOS 2303.3.0 64bit",
}

// serverOS is what a server was created from and how one logs in to it:
// the image's OS as ECS reports it (Linux or Windows), the image name, and
// the key pair (empty: created with a password).
type serverOS struct {
	OSType    string
	ImageName string
	KeyName   string
}

// newServerOS validates a seed or admin request's os_type (Linux, Windows
// or CoreOS; empty is Linux), image_name (empty: the OS's default image)
// and key_name (empty: a password).
func newServerOS(osType, imageName, keyName string) (serverOS, error) {
	if osType == "" {
		osType = osLinux
	}
	if !slices.Contains(osTypes, osType) {
		return serverOS{}, fmt.Errorf("os_type must be one of %v", osTypes)
	}
	if imageName == "" {
		imageName = imageNames[osType]
	}
	if len(keyName) > maxKeyNameLen || len(imageName) > 255 {
		return serverOS{}, fmt.Errorf("key_name must be at most %d bytes and image_name at most 255", maxKeyNameLen)
	}
	return serverOS{OSType: wireOSType(osType), ImageName: imageName, KeyName: keyName}, nil
}

// wireOSType is metadata.os_type as ECS sends it: CoreOS (in state files
// written before this rule) is Linux.
func wireOSType(osType string) string {
	if osType == osCoreOS {
		return osLinux
	}
	return osType
}

// osOf is the OS of a server, for a copy of it (DR or drill server); a
// missing server is a default Linux one.
func osOf(s *Server) serverOS {
	if s == nil {
		return serverOS{OSType: osLinux, ImageName: imageNames[osLinux]}
	}
	return serverOS{OSType: wireOSType(s.OSType), ImageName: s.ImageName, KeyName: s.KeyName}
}

func checkPower(field, status string) error {
	if status != powerActive && status != powerShutoff {
		return fmt.Errorf("%s must be %s or %s", field, powerActive, powerShutoff)
	}
	return nil
}

// addServer creates an ECS server. Caller holds e.mu.
func (e *Emulator) addServer(id, name, az string, os serverOS, status, flavor string) *Server {
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
		OSType:    os.OSType,
		ImageName: os.ImageName,
		KeyName:   os.KeyName,
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
