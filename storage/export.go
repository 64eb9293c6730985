package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// exportDoc is the JSON document Export writes.
type exportDoc struct {
	Chat       string          `json:"chat"`
	ExportedAt time.Time       `json:"exported_at"`
	Messages   []exportMessage `json:"messages"`
	// Damaged lists the numbers of messages that failed to open and are
	// left out.
	Damaged []int64 `json:"damaged,omitempty"`
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
// document to w, oldest message first ("id" is the message's number in
// the chat, Message.ID):
//
//	{"chat": "Work", "exported_at": "2025-…Z", "messages": [
//	  {"id": 1, "direction": "sent", "epoch": 1700000000, "nonce": "…",
//	   "username": "alice", "text": "hi", "authenticated": true,
//	   "pointer": "{\"e\": …}", "saved": "2025-…Z",
//	   "source": {"platform": "telegram", "channel": "…", "message_id": "…"}}],
//	 "damaged": [3]}
//
// Messages that fail to open are left out; their numbers are listed in
// "damaged" (absent when none) and returned, so the caller can say so.
// The document holds plaintext: hand it only to the chat's own member. It
// is built in memory and written at once, so on error nothing is written.
func (s *Store) Export(ctx context.Context, key *ChatKey, w io.Writer) (damaged []int64, err error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	if key == nil {
		return nil, fmt.Errorf("%w: no chat key: unlock the chat first", ErrInvalid)
	}
	doc := exportDoc{Chat: key.name, ExportedAt: s.now().UTC(), Messages: []exportMessage{}}
	err = s.eachMessage(ctx, key, true, func(o *opener) bool {
		if o.damaged {
			doc.Damaged = append(doc.Damaged, o.num)
			return true
		}
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
		return nil, err
	}
	slices.Sort(doc.Damaged)
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("storage: encoding export: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("storage: writing export: %w", err)
	}
	return doc.Damaged, nil
}
