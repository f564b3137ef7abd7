"""A dependency packed into the environment archive."""


def shout(text: str) -> str:
    return text.upper() + "!"
