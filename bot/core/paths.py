"""Where the project's files live, resolved from the package so every entry point agrees."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
POLICY_DIR = ROOT / "data" / "policy"
POLICY_TEXT = POLICY_DIR / "privacy_policy.txt"
SECTION_MAP = POLICY_DIR / "sections.yml"
TEXTS_DIR = ROOT / "data" / "texts"  # the catalogue of what the assistant says, per language
SPACY_PIPELINE = ROOT / "spacy_pipeline" / "en_privacy"
MODELS_DIR = ROOT / "models"
ENV_FILE = ROOT / ".env"
DOMAIN_FILE = ROOT / "domain.yml"  # Rasa's domain: intents, slots, responses, session_config
VAR_DIR = ROOT / "var"
ENDPOINTS_FILE = ROOT / "endpoints.yml"  # the embedded stack's: which tracker store Rasa uses
