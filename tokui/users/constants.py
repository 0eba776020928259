from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    HEAD = "head", _("Head of sales")
    KAM = "kam", _("Key account manager")
    AM = "am", _("Account manager")
    SUPPORT = "support", _("Service department")


# Roles that see every account; the others see what they or their team own.
ROLES_SEEING_ALL = frozenset({Role.ADMIN, Role.HEAD, Role.SUPPORT})
# Roles that may create and change accounts and contacts.
ROLES_EDITING = frozenset({Role.ADMIN, Role.HEAD, Role.KAM, Role.AM})
# Roles that own accounts (may be chosen as an owner).
ROLES_OWNING = frozenset({Role.ADMIN, Role.HEAD, Role.KAM, Role.AM})
