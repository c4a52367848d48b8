#!/bin/sh
# Grep guards from STYLE.md B5/B12: enqueue only from tasks.py and tpm/events.py; no signals for rules.
set -u
status=0
apps="tpm projects sprints risks budgets stakeholders portfolio integrations"
dirs=""
for app in $apps; do [ -d "$app" ] && dirs="$dirs $app"; done
hits=$(grep -rnE '\.delay\(|apply_async\(' $dirs --include='*.py' | grep -vE '/tasks\.py:|^tpm/events\.py:' || true)
if [ -n "$hits" ]; then
  echo "guard: enqueue outside tasks.py / tpm/events.py:"; echo "$hits"; status=1
fi
hits=$(grep -rnE '@receiver|post_save\.connect|pre_save\.connect' $dirs --include='*.py' | grep -v '/migrations/' || true)
if [ -n "$hits" ]; then
  echo "guard: signal receivers for domain rules are not allowed:"; echo "$hits"; status=1
fi
hits=$(grep -rn 'CELERY_TASK_ALWAYS_EAGER' $dirs tests --include='*.py' || true)
if [ -n "$hits" ]; then
  echo "guard: eager Celery is not allowed:"; echo "$hits"; status=1
fi
[ $status -eq 0 ] && echo "guards: ok"
exit $status
