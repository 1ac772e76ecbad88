// Connect Kommo (amoCRM) accounts to a custom chat channel of the Kommo Chat API (amojo) and hand each scope_id to the rest of your stack.
package kommo
