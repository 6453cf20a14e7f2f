"""`rasa` with e-mail addresses and phone numbers masked in every log record it writes.

The stack starts Rasa and the action server through this module instead of the `rasa` script,
so that even debug logging (which prints whole messages) cannot put personal data in a log.
"""

import sys

from bot.masking import install_log_masking


def main() -> None:
    install_log_masking()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
