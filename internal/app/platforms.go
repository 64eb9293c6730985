package app

import (
	"strings"

	"github.com/clmbridge/clmbridge/adapters/console"
	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/telegram"
	"github.com/clmbridge/clmbridge/platform"
)

// platforms returns every platform the bridge can serve, in the order
// their adapters start. It is the one place that names the platforms: a
// new one is its adapter package and one entry here (see the README's
// "Adding a platform").
func platforms() []platform.Platform {
	return []platform.Platform{telegram.Platform{}, discord.Platform{}, console.Platform{}}
}

// TokenVariables names the variables that turn a platform on, as an
// operator sets them: CLM_<PLATFORM>_TOKEN or its _FILE, for every
// platform but the fallback (the console needs none).
func TokenVariables() []string {
	var names []string
	for _, p := range platforms() {
		if _, fallback := p.(platform.Fallback); fallback {
			continue
		}
		v := "CLM_" + strings.ToUpper(p.Name()) + "_TOKEN"
		names = append(names, v, v+"_FILE")
	}
	return names
}
