// Report charts (chart.js): on-time rate per month, backlog by unit, lateness by step.
// The page embeds its figures as JSON in #chart-data; nothing is fetched.
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement,
  PointElement, Tooltip);

function monthLabel(m) {
  const [y, mo] = m.split('-');
  return `${mo}/${y}`;
}

function draw() {
  const source = document.getElementById('chart-data');
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const L = data.labels;
  const common = { responsive: true, animation: false, maintainAspectRatio: false };

  const monthly = document.getElementById('chart-monthly');
  if (monthly) {
    new Chart(monthly, {
      type: 'line',
      data: {
        labels: data.monthly.map((m) => monthLabel(m.month)),
        datasets: [{ label: L.rate, data: data.monthly.map((m) => m.rate), borderColor: '#1b6e3c', tension: 0.2 }],
      },
      options: { ...common, scales: { y: { min: 0, max: 100 } } },
    });
  }
  const backlog = document.getElementById('chart-backlog');
  if (backlog) {
    new Chart(backlog, {
      type: 'bar',
      data: {
        labels: data.backlog.map((b) => b.name),
        datasets: [
          { label: L.in_time, data: data.backlog.map((b) => b.in_time), backgroundColor: '#3b82f6' },
          { label: L.overdue, data: data.backlog.map((b) => b.overdue), backgroundColor: '#c2410c' },
        ],
      },
      options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
  }
  const steps = document.getElementById('chart-steps');
  if (steps) {
    new Chart(steps, {
      type: 'bar',
      data: {
        labels: data.steps.map((s) => s.label),
        datasets: [{ label: L.late_share, data: data.steps.map((s) => s.late_share), backgroundColor: '#b91c1c' }],
      },
      options: { ...common, indexAxis: 'y', scales: { x: { min: 0, max: 100 } } },
    });
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
else draw();
