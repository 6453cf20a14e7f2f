"""What every layer may use: where files live, settings, word matching, log masking."""
