import { assertNever, type Dialog } from '../console/reducer.js';
import type { KeyBinding } from '../keys.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { DetailsDialog, type ProbeResult } from './DetailsDialog.js';
import { HealingDialog, type HealView } from './HealingDialog.js';
import { HelpDialog } from './HelpDialog.js';
import { IncidentDialog } from './IncidentDialog.js';
import { MaintenanceDialog, type MaintSource } from './MaintenanceDialog.js';
import { PickLogDialog } from './PickLogDialog.js';
import { PickRunbookDialog } from './PickRunbookDialog.js';
import { SilenceDialog } from './SilenceDialog.js';

/** The open dialog, drawn by its own component. */
export function DialogView(props: { dialog: Dialog; keys: readonly KeyBinding[]; readOnly: boolean; width: number; height: number; history: (checkId: string) => ProbeResult[]; runbookHint?: (checkId: string) => string | undefined; healing?: HealView | undefined; maintenance?: MaintSource | undefined }) {
  const { dialog, keys, width, height } = props;
  switch (dialog.kind) {
    case 'confirm':
      return <ConfirmDialog dialog={dialog} keys={keys} width={width} />;
    case 'silence':
      return <SilenceDialog dialog={dialog} keys={keys} width={width} />;
    case 'details':
      return <DetailsDialog dialog={dialog} keys={keys} width={width} height={height} history={props.history} {...(props.runbookHint ? { runbookHint: props.runbookHint } : {})} />;
    case 'pick-log':
      return <PickLogDialog dialog={dialog} keys={keys} width={width} height={height} />;
    case 'pick-runbook':
    case 'pick-target':
      return <PickRunbookDialog dialog={dialog} keys={keys} width={width} height={height} />;
    case 'help':
      return <HelpDialog dialog={dialog} keys={keys} readOnly={props.readOnly} width={width} height={height} />;
    case 'healing':
      return <HealingDialog view={props.healing} keys={keys} width={width} height={height} />;
    case 'maintenance':
      return <MaintenanceDialog source={props.maintenance} keys={keys} readOnly={props.readOnly} width={width} height={height} />;
    case 'incident-declare':
    case 'incident-note':
      return <IncidentDialog dialog={dialog} keys={keys} width={width} />;
    default:
      return assertNever(dialog);
  }
}
