import type { AlertRule, RuleFile } from './rule-types.js';

/**
 * An alert on a container kind: a process running now (with its image and pod), or, once none
 * runs any more, one that started in the last 10 minutes (a package manager or an implant that
 * ran for seconds between two scrapes, seen by the watch of new PIDs).
 */
function containerAlert(alert: string, kind: string, summary: string, description: readonly string[]): AlertRule {
  return {
    alert,
    expr: [
      `hostguard_container_process_flagged{kind="${kind}"} > 0`,
      'or on (job, instance)',
      `sum without (verdict) (increase(hostguard_process_starts_total{verdict="${kind}"}[10m])) > 0`,
    ],
    summary,
    description,
  };
}

/** The recording rule that names a flagged pod: its UID joined with kube-state-metrics' kube_pod_info. */
export const kubePodJoin = {
  record: 'pod:hostguard_container_process_flagged:join_kube_pod_info',
  expr: [
    'hostguard_container_process_flagged',
    '* on (pod_uid) group_left (namespace, pod)',
    'max by (pod_uid, namespace, pod) (label_replace(kube_pod_info, "pod_uid", "$1", "uid", "(.+)"))',
  ],
} as const;

export const containersRules: RuleFile = {
  file: 'hostguard-containers.yml',
  header: [
    'Processes in containers (collector "processes", policy section "containers"). Labels are bounded:',
    'the finding kind, the image repository and the Kubernetes pod UID of flagged containers only;',
    "container ids and names, the pod's namespace and name are in the findings (/api/findings, check).",
  ],
  groups: [
    {
      name: 'hostguard-containers',
      collector: 'processes',
      rules: [
        {
          ...kubePodJoin,
          commentAbove: [
            'The flagged pods by namespace and name, where kube-state-metrics runs: its kube_pod_info{uid}',
            'joined on the pod UID (one series per pod, whichever kube-state-metrics replica reports it).',
            "namespace and pod are the flagged pod's; instance still names the node's exporter.",
          ],
        },
        containerAlert(
          'HostGuardContainerDrift',
          'container_drift',
          'A container runs a program that is not from its image on {{ $labels.instance }}',
          [
            'A process in a container on {{ $labels.instance }}{{ with $labels.image }} (image {{ . }}){{ end }} runs an executable',
            'written into the container after it started: a dropped payload, or software installed by hand.',
          ],
        ),
        containerAlert(
          'HostGuardContainerPackageManager',
          'container_package_manager',
          'A package manager ran in a container on {{ $labels.instance }}',
          [
            'A package manager runs or ran in a container on {{ $labels.instance }}{{ with $labels.image }} (image {{ . }}){{ end }}:',
            'the container is being changed away from its image.',
          ],
        ),
        containerAlert('HostGuardContainerShell', 'container_shell', 'Interactive shell in a container on {{ $labels.instance }}', [
          'Someone runs or ran an interactive shell with a terminal in a container on {{ $labels.instance }}{{ with $labels.image }}',
          '(image {{ . }}){{ end }}: kubectl exec -it or docker exec -it.',
        ]),
      ],
    },
  ],
};
