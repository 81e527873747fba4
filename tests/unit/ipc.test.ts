/** Every IPC payload is validated: good ones pass, bad ones are refused with one clear line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, ExportOnnxRequest, OpenedFilesReply, SaveFileRequest, SetTitleRequest, validate, WriteRecoveryRequest } from '../../common/ipc.ts';
import { MENUS, matchesAccelerator } from '../../common/commands.ts';

test('valid payloads pass', () => {
  assert.deepEqual(validate(SaveFileRequest, { text: '{}', handle: null }, 'save'), { text: '{}', handle: null });
  assert.equal(validate(SaveFileRequest, { text: '{}', handle: 'ab'.repeat(16) }, 'save').handle, 'ab'.repeat(16));
  assert.equal(validate(ExportOnnxRequest, { bytes: new Uint8Array([1, 2]), suggestedName: 'm.onnx' }, 'export').bytes.length, 2);
  assert.equal(validate(SetTitleRequest, { title: 'm', dirty: true }, 'title').dirty, true);
  assert.equal(validate(OpenedFilesReply, null, 'open'), null);
  assert.equal(
    validate(
      OpenedFilesReply,
      [
        { name: 'm.json', text: '{}' },
        { name: 'm.safetensors', bytes: new Uint8Array(8) },
      ],
      'open',
    )?.length,
    2,
  );
  assert.equal(validate(SaveFileRequest, { text: '{}', handle: null, bundle: new Uint8Array([80, 75]) }, 'save').bundle?.length, 2);
});

test('bad payloads are refused, naming the field', () => {
  assert.throws(() => validate(SaveFileRequest, { text: 3, handle: null }, 'netloom:save-file'), /invalid netloom:save-file payload: text: /);
  // The window names no paths: a path where a handle goes, or the old "path" field, is refused.
  assert.throws(() => validate(SaveFileRequest, { text: '', handle: '/home/me/.bashrc' }, 'save'), /handle/);
  assert.throws(() => validate(SaveFileRequest, { text: '', path: '/home/me/.bashrc' }, 'save'), /handle|Unrecognized key/);
  assert.throws(() => validate(SaveFileRequest, { text: '', handle: null, extra: 1 }, 'save'), /Unrecognized key/);
  assert.throws(() => validate(ExportOnnxRequest, { bytes: [1, 2], suggestedName: 'x' }, 'export'), /bytes: expected bytes/);
  assert.throws(() => validate(WriteRecoveryRequest, 'text', 'recovery'), /invalid recovery payload/);
  assert.throws(() => validate(SaveFileRequest, { text: '', handle: null, bundle: 'zip' }, 'save'), /bundle: expected bytes/);
  assert.throws(() => validate(SetTitleRequest, { title: 'x' }, 'title'), /dirty/);
  assert.equal(Command.safeParse('rm -rf').success, false);
});

test('every menu command is a known command, and accelerators match key events', () => {
  for (const menu of MENUS) for (const item of menu.items) if (item !== 'separator') assert.ok(Command.safeParse(item.command).success, item.command);
  const key = (k: string, mods: Partial<{ ctrlKey: boolean; shiftKey: boolean; metaKey: boolean }> = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
  assert.ok(matchesAccelerator('CmdOrCtrl+Z', key('z', { ctrlKey: true })));
  assert.ok(matchesAccelerator('CmdOrCtrl+Z', key('z', { metaKey: true })));
  assert.ok(!matchesAccelerator('CmdOrCtrl+Z', key('z', { ctrlKey: true, shiftKey: true })));
  assert.ok(matchesAccelerator('CmdOrCtrl+Shift+Z', key('Z', { ctrlKey: true, shiftKey: true })));
  assert.ok(matchesAccelerator('Delete', key('Delete')));
  assert.ok(!matchesAccelerator('Delete', key('Delete', { ctrlKey: true })));
});
