#!/usr/bin/env bash
# Test prerequisites outside PyPI: a PostgreSQL server on 127.0.0.1:5432 and Debian's Chromium
# for the browser test of the chat page (and a Japanese font for its screenshots).
set -uo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
  for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
fi
if [[ ! -x /usr/bin/chromium ]] && [[ "$(id -u)" == "0" ]]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "chromium could not be installed: browser tests will be skipped" >&2
fi
# A Japanese font, so the chat page's screenshots (tmp/artifacts) show text instead of boxes.
if ! fc-list 2>/dev/null | grep -qi "IPAGothic\|Noto Sans CJK" && [[ "$(id -u)" == "0" ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipafont-gothic >/dev/null 2>&1 \
    || echo "no Japanese font: screenshots will show boxes for Japanese text" >&2
fi
exit 0
