import { Template } from 'aws-cdk-lib/assertions';
import { resolveTopology } from '../../../lib/config/topology';
import { GlobalDashboard } from '../../../lib/operations/global-dashboard';
import { oneStack } from '../../support/one-stack';
import { only, resourcesOf } from '../../support/templates';

const JURISDICTION_REGIONS: Record<string, string[]> = {
  global: ['us-east-1', 'ap-southeast-1'],
  eu: ['eu-west-1', 'eu-central-1'],
};
const REGIONS = Object.values(JURISDICTION_REGIONS).flat();

describe('GlobalDashboard', () => {
  test('puts every region side by side: traffic, p99, errors, replication lag', () => {
    // given the default topology and the edge's region
    const { stack } = oneStack({ region: 'us-east-1' });
    // when
    new GlobalDashboard(stack, 'GlobalDashboard', { topology: resolveTopology({}, 'test') });
    // then
    const [, dashboard] = only(resourcesOf(Template.fromStack(stack), 'AWS::CloudWatch::Dashboard'), 'GlobalDashboard');
    expect(dashboard.DashboardName).toBe('Commerce-global');
    const body = JSON.parse(
      (dashboard.DashboardBody['Fn::Join']
        ? dashboard.DashboardBody['Fn::Join'][1].join('')
        : dashboard.DashboardBody) as string,
    ) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] };
    const widget = (title: string) => {
      const found = body.widgets.find((w) => w.properties.title?.startsWith(title));
      if (!found) throw new Error(`no widget ${title}`);
      return JSON.stringify(found.properties.metrics);
    };
    for (const [title, metric] of [
      ['Traffic', 'Count'],
      ['API p99', 'Latency'],
      ['API 5xx', '5xx'],
      ['Function errors', 'Errors'],
      ['Aurora global', 'AuroraGlobalDBReplicationLag'],
    ] as const) {
      const lines = JSON.parse(widget(title)) as { label: string; expression: string; region?: string }[][];
      expect(lines.map(([line]) => line?.label)).toEqual(REGIONS);
      for (const [line] of lines) {
        expect(line?.expression).toContain(`MetricName="${metric}"`);
        // The dashboard lives in us-east-1: a line of another region must say where to search.
        expect(line?.region).toBe(line?.label === 'us-east-1' ? undefined : line?.label);
      }
    }
    const tableLag = widget('Global-table replication');
    for (const [jurisdiction, regions] of Object.entries(JURISDICTION_REGIONS)) {
      for (const from of regions) {
        for (const to of regions.filter((r) => r !== from)) {
          expect(tableLag).toContain(`"label":"${from} → ${to}"`);
        }
      }
      expect(tableLag).toContain(`Commerce-${jurisdiction}-eventual`);
    }
  });
});
