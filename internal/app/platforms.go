package app

import (
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
