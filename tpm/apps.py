from django.apps import AppConfig


class TpmConfig(AppConfig):
    name = "tpm"
    verbose_name = "TPM core"

    def ready(self) -> None:
        from tpm.api import schema  # noqa: F401  registers OpenAPI extensions
