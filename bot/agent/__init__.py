"""The tool-use loop and what it talks to: model client, tools, scripted model, prompts, transcript."""
