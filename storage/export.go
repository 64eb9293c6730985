package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// exportDoc is the JSON document Export writes.
type exportDoc struct {
	Chat       string          `json:"chat"`
	ExportedAt time.Time       `json:"exported_at"`
	Messages   []exportMessage `json:"messages"`
}

type exportMessage struct {
	ID            int64         `json:"id"`
	Direction     Direction     `json:"direction"`
	Epoch         int64         `json:"epoch"`
	Nonce         string        `json:"nonce"`
	Username      string        `json:"username"`
	Text          string        `json:"text"`
	Authenticated bool          `json:"authenticated"`
	Pointer       string        `json:"pointer"`
	Saved         time.Time     `json:"saved"`
	Source        *exportSource `json:"source,omitempty"`
}

type exportSource struct {
	Platform  string `json:"platform,omitempty"`
	Channel   string `json:"channel,omitempty"`
	MessageID string `json:"message_id,omitempty"`
}

// Export writes the chat's history (not the trash), decrypted, as one JSON
// document to w, oldest message first:
//
//	{"chat": "Work", "exported_at": "2025-…Z", "messages": [
//	  {"id": 1, "direction": "sent", "epoch": 1700000000, "nonce": "…",
//	   "username": "alice", "text": "hi", "authenticated": true,
//	   "pointer": "{\"e\": …}", "saved": "2025-…Z",
//	   "source": {"platform": "telegram", "channel": "…", "message_id": "…"}}]}
//
// The document holds plaintext: hand it only to the chat's own member. It
// is built in memory and written at once, so on error nothing is written.
func (s *Store) Export(ctx context.Context, key *ChatKey, w io.Writer) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if key == nil {
		return fmt.Errorf("%w: no chat key: unlock the chat first", ErrInvalid)
	}
	doc := exportDoc{Chat: key.name, ExportedAt: s.now().UTC(), Messages: []exportMessage{}}
	err := s.eachMessage(ctx, key, true, func(o *opener) bool {
		m := o.message()
		em := exportMessage{
			ID: m.ID, Direction: m.Direction, Epoch: m.Epoch, Nonce: m.Nonce,
			Username: m.Username, Text: m.Text, Authenticated: m.Authenticated,
			Pointer: m.Pointer, Saved: m.Saved,
		}
		if m.Source != (Source{}) {
			em.Source = &exportSource{Platform: m.Source.Platform, Channel: m.Source.Channel, MessageID: m.Source.MessageID}
		}
		doc.Messages = append(doc.Messages, em)
		return true
	}, nil, `SELECT `+messageCols+` FROM messages WHERE chat_id = ? AND deleted_at IS NULL ORDER BY id`, key.chatID)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("storage: encoding export: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("storage: writing export: %w", err)
	}
	return nil
}
