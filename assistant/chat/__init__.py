"""Conversation: what is not a command is answered by a chat model (Chat Completions, streamed
sentence by sentence into speech), remembering the last turns and the pictures drawn."""
