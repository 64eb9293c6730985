package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/clmbridge/clmbridge/platform"
)

// doctorCheck says which bot to examine.
type doctorCheck struct {
	APIURL string // the Bot API server, such as https://api.telegram.org
	Token  string
	// WebhookURL is CLM_TELEGRAM_WEBHOOK_URL: empty means long polling.
	WebhookURL string
	// Client makes the calls; nil means a client with a 10 s timeout.
	Client *http.Client
}

// tgResponse is the Bot API's envelope.
type tgResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
}

// call runs one Bot API method and decodes its result into out. Errors
// never contain the token.
func (t doctorCheck) call(ctx context.Context, method string, params url.Values, out any) (int, error) {
	u := strings.TrimRight(t.APIURL, "/") + "/bot" + t.Token + "/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(params.Encode()))
	if err != nil {
		return 0, errors.New("CLM_TELEGRAM_API_URL is not a valid URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, err := platform.Fetch(t.Client, req, t.Token, 1<<20)
	if err != nil {
		if resp == nil {
			return 0, err
		}
		return resp.StatusCode, fmt.Errorf("reading the answer to %s: %w", method, err)
	}
	var r tgResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return resp.StatusCode, fmt.Errorf("%s answered %s, not the Bot API's JSON: is CLM_TELEGRAM_API_URL right?", method, resp.Status)
	}
	if !r.OK {
		code := r.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return code, fmt.Errorf("%s: %d %s", method, code, platform.Redact(r.Description, t.Token))
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: unexpected result: %v", method, err)
		}
	}
	return resp.StatusCode, nil
}

// Check examines the bot: that the token works, privacy and inline modes,
// the webhook state against the configured mode, the admin rights the bot
// asks for in groups, and its command menu.
func (t doctorCheck) Check(ctx context.Context) []platform.Finding {
	const area = "telegram"
	var fs []platform.Finding
	add := func(l platform.Level, what, fix string) {
		fs = append(fs, platform.Finding{Area: area, Level: l, What: what, Fix: fix})
	}

	var me struct {
		ID                      int64  `json:"id"`
		Username                string `json:"username"`
		CanJoinGroups           bool   `json:"can_join_groups"`
		CanReadAllGroupMessages bool   `json:"can_read_all_group_messages"`
		SupportsInlineQueries   bool   `json:"supports_inline_queries"`
	}
	code, err := t.call(ctx, "getMe", nil, &me)
	switch {
	case code == http.StatusUnauthorized || code == http.StatusNotFound:
		add(platform.Fail, "the bot token is refused ("+err.Error()+")",
			"copy the token again from @BotFather (/mybots → your bot → API Token) into CLM_TELEGRAM_TOKEN or CLM_TELEGRAM_TOKEN_FILE")
		return fs
	case err != nil:
		add(platform.Fail, "cannot reach the Bot API: "+err.Error(),
			"check the network and CLM_TELEGRAM_API_URL (default https://api.telegram.org)")
		return fs
	}
	add(platform.OK, fmt.Sprintf("token accepted: bot @%s (id %d)", me.Username, me.ID), "")

	if me.CanReadAllGroupMessages {
		add(platform.OK, "privacy mode is off: the bot sees pointers posted in groups and offers a Receive button", "")
	} else {
		add(platform.Warn, "privacy mode is on: in groups the bot sees only /clm commands and replies to its own messages, so pointers posted in groups get no Receive button",
			"@BotFather → /setprivacy → choose the bot → Disable; then remove the bot from each group and add it again (Telegram applies the change on re-join)")
	}
	if me.SupportsInlineQueries {
		// getMe does not say whether inline feedback is on: remind.
		add(platform.OK, "inline mode is on: members can post pointers with @"+me.Username+" Work: text"+
			" (for those pointers to reach the sender's history, inline feedback must be on too, which the Bot API cannot show: @BotFather → /setinlinefeedback → choose the bot → 100%)", "")
	} else {
		add(platform.Warn, "inline mode is off: members cannot post a pointer straight into a group with @"+me.Username+" Work: text",
			"@BotFather → /setinline → choose the bot → give a placeholder such as \"Chat: message\"")
	}
	if !me.CanJoinGroups {
		add(platform.Warn, "the bot cannot be added to groups", "@BotFather → /setjoingroups → choose the bot → Enable")
	}

	var hook struct {
		URL                  string `json:"url"`
		PendingUpdateCount   int    `json:"pending_update_count"`
		LastErrorMessage     string `json:"last_error_message"`
		LastErrorDate        int64  `json:"last_error_date"`
		HasCustomCertificate bool   `json:"has_custom_certificate"`
	}
	if _, err := t.call(ctx, "getWebhookInfo", nil, &hook); err != nil {
		add(platform.Warn, "cannot read the webhook state: "+err.Error(), "")
	} else {
		hookHost := hostOf(hook.URL)
		switch {
		case t.WebhookURL == "" && hook.URL != "":
			add(platform.Warn, "a webhook is set (to "+hookHost+") but CLM_TELEGRAM_WEBHOOK_URL is empty, so the bridge long-polls: Telegram answers getUpdates with 409 while a webhook is set",
				"set CLM_TELEGRAM_WEBHOOK_URL to use the webhook, or remove it with the Bot API's deleteWebhook method; make sure no other program uses this bot")
		case t.WebhookURL != "" && hook.URL == "":
			add(platform.Info, "no webhook is registered yet; the bridge registers CLM_TELEGRAM_WEBHOOK_URL when it starts", "")
		case t.WebhookURL != "" && hostOf(t.WebhookURL) != hookHost:
			add(platform.Warn, "the registered webhook points to "+hookHost+", not to CLM_TELEGRAM_WEBHOOK_URL's "+hostOf(t.WebhookURL),
				"another program may be using this bot; give each program its own bot")
		case t.WebhookURL != "":
			add(platform.OK, "the webhook is registered at "+hookHost, "")
		default:
			add(platform.OK, "no webhook is set: long polling will work", "")
		}
		if hook.LastErrorMessage != "" && t.WebhookURL != "" {
			add(platform.Warn, "Telegram's last webhook delivery failed: "+platform.Redact(hook.LastErrorMessage, t.Token),
				"check that the public URL reaches CLM_TELEGRAM_WEBHOOK_LISTEN through the reverse proxy, with a valid certificate")
		}
		if hook.PendingUpdateCount > 100 {
			add(platform.Warn, fmt.Sprintf("%d updates are waiting at Telegram", hook.PendingUpdateCount),
				"the bridge is not receiving updates: check that it runs and that nothing else polls this bot")
		}
	}

	var rights *struct {
		CanDeleteMessages bool `json:"can_delete_messages"`
	}
	if _, err := t.call(ctx, "getMyDefaultAdministratorRights", nil, &rights); err == nil {
		if rights != nil && rights.CanDeleteMessages {
			add(platform.OK, "the bot asks for the Delete messages right when made an admin", "")
		} else {
			add(platform.Warn, "the bot does not ask for the Delete messages right in groups, so a secret someone types in a group can only be reported, not removed",
				"make the bot an administrator with \"Delete messages\" in each group (Telegram does not tell a bot which groups it is in, so check each one)")
		}
	}

	var cmds []struct {
		Command string `json:"command"`
	}
	if _, err := t.call(ctx, "getMyCommands", nil, &cmds); err == nil {
		found := false
		for _, c := range cmds {
			found = found || c.Command == "clm"
		}
		if found {
			add(platform.OK, "the /clm command is in the bot's menu", "")
		} else {
			add(platform.Info, "the /clm command is not in the bot's menu yet; the bridge sets it when it starts", "")
		}
	}
	return fs
}

// hostOf returns the host of a URL, so findings never carry a URL's path
// or query (a webhook path may hold a secret).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an unreadable URL)"
	}
	return u.Host
}
