"""What every pulumi-bird resource provider shares (``base``, ``config``, ``checks``, ``schema``, ``connectors``,
``workers``), over :mod:`pulumi_bird.api`, which imports nothing from here."""
