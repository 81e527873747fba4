/** A pad to draw a digit on with the mouse or a finger: white strokes on black, as MNIST's digits are. */
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';

export interface DrawingPadHandle {
  canvas(): HTMLCanvasElement | null;
  clear(): void;
}

const SIZE = 224;

export const DrawingPad = forwardRef<DrawingPadHandle, { onDrawn: () => void }>(function DrawingPad({ onDrawn }, ref) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const clear = () => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    context.fillStyle = '#000';
    context.fillRect(0, 0, SIZE, SIZE);
  };
  useEffect(clear, []);
  useImperativeHandle(ref, () => ({ canvas: () => canvas.current, clear }));

  const point = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    return { x: ((e.clientX - box.left) * SIZE) / box.width, y: ((e.clientY - box.top) * SIZE) / box.height };
  };
  const stroke = (e: React.PointerEvent<HTMLCanvasElement>, start: boolean) => {
    const context = e.currentTarget.getContext('2d')!;
    const { x, y } = point(e);
    context.strokeStyle = '#fff';
    context.fillStyle = '#fff';
    context.lineWidth = SIZE / 12;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    if (start) {
      context.beginPath();
      context.moveTo(x, y);
      context.arc(x, y, context.lineWidth / 2, 0, 2 * Math.PI);
      context.fill();
      context.beginPath();
      context.moveTo(x, y);
    } else {
      context.lineTo(x, y);
      context.stroke();
    }
  };
  return (
    <canvas
      ref={canvas}
      width={SIZE}
      height={SIZE}
      className="drawing-pad"
      role="img"
      aria-label="Drawing pad"
      onPointerDown={(e) => {
        drawing.current = true;
        e.currentTarget.setPointerCapture(e.pointerId);
        stroke(e, true);
      }}
      onPointerMove={(e) => drawing.current && stroke(e, false)}
      onPointerUp={() => {
        drawing.current = false;
        onDrawn();
      }}
    />
  );
});
