package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/clmbridge/clmbridge/platform"
)

// defaultRESTBase is Discord's REST host; paths are /api/v9/...
const defaultRESTBase = "https://discord.com"

// Discord application flags (developer portal → Bot → Privileged Gateway
// Intents) that allow the Message Content intent.
const (
	flagGatewayMessageContent        = 1 << 18
	flagGatewayMessageContentLimited = 1 << 19
)

// Discord permission bits the bridge cares about.
const (
	permAdministrator = 1 << 3
	permViewChannel   = 1 << 10
	permSendMessages  = 1 << 11
	permReadHistory   = 1 << 16
)

// doctorCheck says which application to examine.
type doctorCheck struct {
	Base           string // REST host, defaultRESTBase when empty
	Token          string // the bot token, without "Bot "
	AppID          string // CLM_DISCORD_APP_ID, may be empty
	GuildID        string // CLM_DISCORD_GUILD_ID, may be empty
	MessageContent bool   // CLM_DISCORD_MESSAGE_CONTENT
	// CommandName and ContextMenuName are what the adapter registers.
	CommandName, ContextMenuName string
	// Client makes the calls; nil means a client with a 10 s timeout.
	Client *http.Client
}

// get GETs /api/v9/path into out. Errors never contain the token.
func (d doctorCheck) get(ctx context.Context, path string, out any) (int, error) {
	base := d.Base
	if base == "" {
		base = defaultRESTBase
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/api/v9"+path, nil)
	if err != nil {
		return 0, errors.New("the Discord API address is not a valid URL")
	}
	req.Header.Set("Authorization", "Bot "+d.Token)
	req.Header.Set("User-Agent", "DiscordBot (https://github.com/clmbridge/clmbridge, doctor)")
	resp, body, err := platform.Fetch(d.Client, req, d.Token, 4<<20)
	if err != nil {
		if resp == nil {
			return 0, err
		}
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		msg := e.Message
		if msg == "" {
			msg = resp.Status
		}
		return resp.StatusCode, fmt.Errorf("%d %s", resp.StatusCode, platform.Redact(msg, d.Token))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return resp.StatusCode, fmt.Errorf("unexpected answer: %v", err)
	}
	return resp.StatusCode, nil
}

// Check examines the application: that the token works, the application
// id, the Message Content intent against the configuration, whether the
// commands are registered, and (with a guild id) the bot's permissions
// there.
func (d doctorCheck) Check(ctx context.Context) []platform.Finding {
	const area = "discord"
	var fs []platform.Finding
	add := func(l platform.Level, what, fix string) {
		fs = append(fs, platform.Finding{Area: area, Level: l, What: what, Fix: fix})
	}

	var me struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Bot      bool   `json:"bot"`
	}
	code, err := d.get(ctx, "/users/@me", &me)
	switch {
	case code == http.StatusUnauthorized:
		add(platform.Fail, "the bot token is refused ("+err.Error()+")",
			"Developer Portal → your application → Bot → Reset Token, and put the new token in CLM_DISCORD_TOKEN or CLM_DISCORD_TOKEN_FILE")
		return fs
	case err != nil:
		add(platform.Fail, "cannot reach Discord's API: "+err.Error(), "check the network (the bridge needs HTTPS to discord.com and the gateway)")
		return fs
	}
	add(platform.OK, "token accepted: bot "+me.Username+" (id "+me.ID+")", "")

	var app struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Flags     int64  `json:"flags"`
		BotPublic bool   `json:"bot_public"`
	}
	appID := d.AppID
	if _, err := d.get(ctx, "/applications/@me", &app); err != nil {
		add(platform.Warn, "cannot read the application's settings: "+err.Error(), "")
	} else {
		if d.AppID != "" && d.AppID != app.ID {
			add(platform.Fail, "CLM_DISCORD_APP_ID is "+d.AppID+" but the token belongs to application "+app.ID,
				"set CLM_DISCORD_APP_ID="+app.ID+" (or leave it empty: the bridge learns it when it connects)")
		}
		appID = app.ID
		mc := app.Flags&(flagGatewayMessageContent|flagGatewayMessageContentLimited) != 0
		switch {
		case d.MessageContent && !mc:
			add(platform.Fail, "CLM_DISCORD_MESSAGE_CONTENT=true but the Message Content intent is not enabled for the application: Discord will close the connection (4014, disallowed intents)",
				"Developer Portal → your application → Bot → Privileged Gateway Intents → enable Message Content Intent; or set CLM_DISCORD_MESSAGE_CONTENT=false")
		case d.MessageContent:
			add(platform.OK, "the Message Content intent is enabled: pointers posted in channels get a Receive button", "")
		case mc:
			add(platform.Info, "the Message Content intent is enabled in the portal but CLM_DISCORD_MESSAGE_CONTENT is false: the bridge sees only commands, buttons, the context menu and DMs",
				"set CLM_DISCORD_MESSAGE_CONTENT=true to offer a Receive button on pointers people post")
		default:
			add(platform.Info, "without the Message Content intent the bridge sees only /"+d.CommandName+" commands, buttons, the \""+d.ContextMenuName+"\" context menu and DMs", "")
		}
		if app.BotPublic {
			add(platform.Warn, "the bot is public: anyone can add it to their server and use this bridge (and its store)",
				"Developer Portal → your application → Bot → turn off Public Bot, unless you mean to run it for everyone")
		}
	}

	if appID != "" {
		path := "/applications/" + url.PathEscape(appID) + "/commands"
		where := "globally"
		if d.GuildID != "" {
			path = "/applications/" + url.PathEscape(appID) + "/guilds/" + url.PathEscape(d.GuildID) + "/commands"
			where = "in guild " + d.GuildID
		}
		var cmds []struct {
			Name string `json:"name"`
			Type int    `json:"type"`
		}
		code, err := d.get(ctx, path, &cmds)
		switch {
		case code == http.StatusForbidden:
			add(platform.Fail, "cannot read the commands "+where+" ("+err.Error()+"): the bot is not in that server, or was invited without the applications.commands scope",
				"invite the bot again with the scopes bot and applications.commands (Developer Portal → OAuth2 → URL Generator)")
		case err != nil:
			add(platform.Warn, "cannot read the registered commands: "+err.Error(), "")
		default:
			var slash, menu bool
			for _, c := range cmds {
				slash = slash || (c.Name == d.CommandName && (c.Type == 1 || c.Type == 0))
				menu = menu || (c.Name == d.ContextMenuName && c.Type == 3)
			}
			if slash && menu {
				add(platform.OK, "/"+d.CommandName+" and \""+d.ContextMenuName+"\" are registered "+where, "")
			} else {
				fix := "start the bridge once: it registers its commands at start"
				if d.GuildID == "" {
					fix += "; global commands can take up to an hour to appear (set CLM_DISCORD_GUILD_ID for instant registration in one server)"
				}
				add(platform.Warn, "the commands are not registered "+where+" yet", fix)
			}
		}
	}

	if d.GuildID != "" && me.ID != "" {
		fs = append(fs, d.checkGuild(ctx, me.ID)...)
	}
	return fs
}

// checkGuild computes the bot's server-wide permissions from its roles.
// Channel overrides can still take permissions away in single channels.
func (d doctorCheck) checkGuild(ctx context.Context, botID string) []platform.Finding {
	const area = "discord"
	var fs []platform.Finding
	add := func(l platform.Level, what, fix string) {
		fs = append(fs, platform.Finding{Area: area, Level: l, What: what, Fix: fix})
	}

	var member struct {
		Roles []string `json:"roles"`
	}
	g := url.PathEscape(d.GuildID)
	if code, err := d.get(ctx, "/guilds/"+g+"/members/"+url.PathEscape(botID), &member); err != nil {
		if code == http.StatusNotFound || code == http.StatusForbidden {
			add(platform.Fail, "the bot is not a member of guild "+d.GuildID+" ("+err.Error()+")",
				"invite it with the scopes bot and applications.commands, or fix CLM_DISCORD_GUILD_ID")
		} else {
			add(platform.Warn, "cannot read the bot's roles in guild "+d.GuildID+": "+err.Error(), "")
		}
		return fs
	}
	var roles []struct {
		ID          string `json:"id"`
		Permissions string `json:"permissions"`
	}
	if _, err := d.get(ctx, "/guilds/"+g+"/roles", &roles); err != nil {
		add(platform.Warn, "cannot read the roles of guild "+d.GuildID+": "+err.Error(), "")
		return fs
	}
	has := map[string]bool{d.GuildID: true} // @everyone's role id is the guild id
	for _, r := range member.Roles {
		has[r] = true
	}
	var perms uint64
	for _, r := range roles {
		if has[r.ID] {
			p, _ := strconv.ParseUint(r.Permissions, 10, 64)
			perms |= p
		}
	}
	if perms&permAdministrator != 0 {
		add(platform.Warn, "the bot has Administrator in guild "+d.GuildID+": far more than it needs",
			"give its role only View Channels, Send Messages and Read Message History")
		return fs
	}
	var missing []string
	if perms&permViewChannel == 0 {
		missing = append(missing, "View Channels")
	}
	if perms&permSendMessages == 0 {
		missing = append(missing, "Send Messages")
	}
	if perms&permReadHistory == 0 {
		missing = append(missing, "Read Message History")
	}
	if len(missing) > 0 {
		add(platform.Fail, "the bot lacks "+strings.Join(missing, ", ")+" in guild "+d.GuildID+": it cannot post pointers or Receive buttons",
			"Server Settings → Roles → the bot's role → enable "+strings.Join(missing, ", "))
		return fs
	}
	add(platform.OK, "the bot can view channels, send messages and read history in guild "+d.GuildID+" (channel overrides may still restrict single channels)", "")
	return fs
}
