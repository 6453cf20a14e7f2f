"""The VideoPro Cloud Meeting privacy assistant: policy model, answers, web app and tooling.

Everything here runs without Rasa so plain pytest can reach it; `actions/` adapts it to rasa_sdk.
"""
