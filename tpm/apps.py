from django.apps import AppConfig


class TpmConfig(AppConfig):
    name = "tpm"
    verbose_name = "TPM core"
