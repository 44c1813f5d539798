"""``python -m pulumi_bird.plugin <engine address>``: the same as the ``pulumi-resource-bird`` executable."""

from .server import main

if __name__ == "__main__":
    main()
