// A Kommo (amoCRM) chat integration's per-account setup as code: connect accounts to a custom chat channel of the Chat API (amojo), route chats to a pipeline with sources, subscribe to account events with webhooks, and look the account up.
package kommo
