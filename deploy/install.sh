#!/usr/bin/env bash
# Publishes BillingConsole and installs it as the billing-svc systemd service on this machine (run as root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=/opt/billing-console

id -u svc_billing >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin svc_billing
dotnet publish "$ROOT/BillingConsole/BillingConsole.csproj" -c Release -o "$TARGET" --nologo
chown -R root:svc_billing "$TARGET" && chmod -R o-rwx "$TARGET"
install -d -o svc_billing -g svc_billing -m 750 /var/lib/billing-console
install -d -o root -g root -m 755 /etc/billing-console
if [[ ! -f /etc/billing-console/billing.env ]]; then
  install -o root -g root -m 600 "$ROOT/deploy/billing.env.example" /etc/billing-console/billing.env
  echo "Edit /etc/billing-console/billing.env (secrets), then: systemctl start billing-svc"
fi
install -o root -g root -m 644 "$ROOT/deploy/billing-svc.service" /etc/systemd/system/billing-svc.service
systemctl daemon-reload
systemctl enable billing-svc
