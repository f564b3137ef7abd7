"""The code under development: shipped as demo_app.zip beside the environment, re-sent on every upload."""

from demo_utils import shout


def greeting(name: str) -> str:
    return shout(f"hello {name} from demo_app")
