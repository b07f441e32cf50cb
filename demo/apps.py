from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo county 永福县 and everything `make run` loads for it: parcels, households and contracts
    (generated in the county's plane), demo logins, an image under it, a posted notice; and the command
    that ends running notices at once on the demo database. At the top of the layers: it uses every app's
    services, and no app uses it."""

    name = "demo"
    verbose_name = "演示数据 Demo county"
